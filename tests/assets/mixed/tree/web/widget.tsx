import React from "react";

export function Note(props: { html: string }) {
  return <div className="note" dangerouslySetInnerHTML={{ __html: props.html }} />;
}
