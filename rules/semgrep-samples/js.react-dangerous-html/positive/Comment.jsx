import React from "react";

export function Comment({ body, footer }) {
  return (
    <article>
      {/* ruleid: js.react-dangerous-html */}
      <div dangerouslySetInnerHTML={{ __html: body }} />
      {/* ruleid: js.react-dangerous-html */}
      <footer className="small" dangerouslySetInnerHTML={{ __html: `<b>${footer}</b>` }}></footer>
    </article>
  );
}

export function Raw(props) {
  // ruleid: js.react-dangerous-html
  return React.createElement("div", { dangerouslySetInnerHTML: { __html: props.html } });
}
