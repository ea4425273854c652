// History routing under /ui/: every view has a URL, so a reload restores it.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/ui";

export function currentPath(): string {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length) || "/" : "/";
}

export function navigate(to: string, replace = false): void {
  const url = `${BASE}${to}`;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event("latch:navigate"));
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener("popstate", update);
    window.addEventListener("latch:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("latch:navigate", update);
    };
  }, []);
  return path;
}

/** Follows same-app links without a page load; modified clicks keep the browser's behaviour. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (anchor === null || anchor === undefined) return;
  const href = anchor.getAttribute("href");
  if (href === null || !href.startsWith(`${BASE}/`) || anchor.target !== "") return;
  event.preventDefault();
  navigate(href.slice(BASE.length));
}

export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(/:[a-z]+/gi, (name) => {
      names.push(name.slice(1));
      return "([^/]+)";
    })}/?$`,
  );
  const found = regex.exec(path);
  if (found === null) return null;
  return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(found[index + 1] ?? "")]));
}

/** The query string of the current URL, for filters kept in the URL. */
export function useQuery(): URLSearchParams {
  const [search, setSearch] = useState(window.location.search);
  useEffect(() => {
    const update = () => setSearch(window.location.search);
    window.addEventListener("popstate", update);
    window.addEventListener("latch:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("latch:navigate", update);
    };
  }, []);
  return new URLSearchParams(search);
}

export function setQuery(params: Record<string, string | null>): void {
  const search = new URLSearchParams(window.location.search);
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === "") search.delete(name);
    else search.set(name, value);
  }
  const text = search.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${text === "" ? "" : `?${text}`}`);
  window.dispatchEvent(new Event("latch:navigate"));
}
