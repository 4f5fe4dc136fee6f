import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { highlightProto } from "./highlight.js";
import { escapeHtml, html, pathSegs, toHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";

describe("html", () => {
  it("escapes every interpolation and keeps nested html", () => {
    const evil = `<script>alert("x")</script>&'`;
    const inner = html`<b>${evil}</b>`;
    assert.equal(
      html`<p title="${evil}">${inner}${[evil, 1, undefined, false, null]}</p>`.text,
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">` +
        `<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b>` +
        `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;1</p>`,
    );
  });
  it("does not take a look-alike object for markup", () => {
    const forged = { text: "<img src=x onerror=alert(1)>" } as unknown as string;
    assert.doesNotMatch(toHtml(String(forged)).text, /<img/);
    assert.equal(escapeHtml("a<b"), "a&lt;b");
  });
  it("encodes each path segment for hrefs", () => {
    assert.equal(pathSegs('a b/c"?#/d.proto'), "a%20b/c%22%3F%23/d.proto");
  });
});

describe("highlightProto", () => {
  it("marks keywords, scalars, strings, numbers and comments, and escapes them", () => {
    const out = highlightProto(`// <b>\nmessage M { string s = 1; } /* a */ option x = "<i>";`).text;
    assert.match(out, /^<span class="c">\/\/ &lt;b&gt;<\/span>\n/);
    assert.match(
      out,
      /<span class="k">message<\/span> M \{ <span class="t">string<\/span> s = <span class="n">1<\/span>;/,
    );
    assert.match(out, /<span class="c">\/\* a \*\/<\/span>/);
    assert.match(out, /<span class="s">&quot;&lt;i&gt;&quot;<\/span>/);
    assert.doesNotMatch(out, /<b>|<i>/);
  });
  it("survives unterminated comments and strings", () => {
    assert.equal(highlightProto(`"abc`).text, `<span class="s">&quot;abc</span>`);
    assert.equal(highlightProto(`/* x`).text, `<span class="c">/* x</span>`);
  });
});

describe("renderMarkdown", () => {
  it("renders headings, paragraphs, lists, code and links, escaping everything", () => {
    const out = renderMarkdown(
      "# Title <x>\n\nSome `code` and **bold**,\njoined.\n\n- one\n- [two](https://example.test/a)\n\n```\n<raw>\n```\n",
    ).text;
    assert.equal(
      out,
      "<h3>Title &lt;x&gt;</h3><p>Some <code>code</code> and <strong>bold</strong>, joined.</p>" +
        '<ul><li>one</li><li><a href="https://example.test/a">two</a></li></ul><pre><code>&lt;raw&gt;</code></pre>',
    );
  });
  it("keeps the text of links to script URLs, not the link", () => {
    const out = renderMarkdown("[click](javascript:alert(1)) [x](data:text/html,hi)").text;
    assert.doesNotMatch(out, /href/);
    assert.match(out, /click/);
  });
});
