function showComment(container, comment) {
  // ruleid: js.html-injection
  container.innerHTML = "<p>" + comment.text + "</p>";
  // ruleid: js.html-injection
  container.innerHTML += `<span>${comment.author}</span>`;
  // ruleid: js.html-injection
  container.insertAdjacentHTML("beforeend", comment.html);
  // ruleid: js.html-injection
  document.write(comment.footer);
}

export { showComment };
