// Lesson Markdown to safe HTML: markdown-it with raw HTML off (tags show as text), then
// DOMPurify as a second, independent filter (no scripts, handlers or javascript: URLs).
import MarkdownIt from "markdown-it";
import DOMPurify from "dompurify";
import { useMemo } from "preact/hooks";

const md = new MarkdownIt({ html: false, linkify: true, typographer: true });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("rel", "noopener noreferrer nofollow");
    node.setAttribute("target", "_blank");
  }
});

export function renderMarkdown(source: string): string {
  return DOMPurify.sanitize(md.render(source), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
    FORBID_ATTR: ["style"],
  });
}

export function Markdown({ source, label }: { source: string; label?: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div class="markdown" aria-label={label} dangerouslySetInnerHTML={{ __html: html }} />;
}
