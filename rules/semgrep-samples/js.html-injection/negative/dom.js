import DOMPurify from "dompurify";

function showComment(container, comment) {
  // ok: js.html-injection
  container.innerHTML = "";
  // ok: js.html-injection
  container.innerHTML = "<p>Loading…</p>";
  // ok: js.html-injection
  container.textContent = comment.text;
  // ok: js.html-injection
  container.innerHTML = DOMPurify.sanitize(comment.html);
}

export { showComment };
