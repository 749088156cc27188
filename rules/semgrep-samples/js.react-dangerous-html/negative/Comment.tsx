import React from "react";
import DOMPurify from "dompurify";

export function Comment({ body }: { body: string }) {
  return (
    <article>
      {/* ok: js.react-dangerous-html */}
      <div dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(body) }} />
      {/* ok: js.react-dangerous-html */}
      <div dangerouslySetInnerHTML={{ __html: "<hr/>" }} />
      {/* ok: js.react-dangerous-html */}
      <p>{body}</p>
    </article>
  );
}
