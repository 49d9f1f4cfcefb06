/**
 * Pages of a long list, so a page's weight stays bounded however large the store grows (issue
 * 15: the main page with 1,000 connections must stay under 100 KB without gzip). Presentation
 * only: the lists come whole from the same operations the CLI calls (`list`, `inspect`); this
 * only picks which slice of them one page shows, and links to the others.
 */
import { h, href, type Markup } from "./render.ts";

/** One page of a list. */
export interface Slice<T> {
  items: T[];
  /** 1-based; a request past the end shows the last page, a nonsense one the first. */
  page: number;
  pages: number;
  total: number;
}

/** The `page`-th slice of `size` items (`requested` is the query's text). */
export function sliceOf<T>(items: T[], requested: string | undefined, size: number): Slice<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const asked = Number.parseInt(requested ?? "1", 10);
  const page = Number.isFinite(asked) && asked >= 1 ? Math.min(asked, pages) : 1;
  return { items: items.slice((page - 1) * size, page * size), page, pages, total: items.length };
}

/** Previous/next links (with `rel`, so they are announced as such), or nothing for a single page. */
export function pager(slice: Slice<unknown>, label: string, path: string, profile: string, params: Record<string, string> = {}): Markup | "" {
  if (slice.pages < 2) return "";
  const link = (page: number, text: string, rel: string) => h`<a href="${href(path, profile, { ...params, page: String(page) })}" rel="${rel}">${text}</a>`;
  const prev = slice.page > 1 ? link(slice.page - 1, "← Previous", "prev") : h`<span class="muted">← Previous</span>`;
  const next = slice.page < slice.pages ? link(slice.page + 1, "Next →", "next") : h`<span class="muted">Next →</span>`;
  return h`<nav class="pager" aria-label="${label}">${prev} <span>page ${slice.page} of ${slice.pages}</span> ${next}</nav>`;
}
