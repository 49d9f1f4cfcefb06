/** Host regexes that match every host: the variants issue 10 found accepted, and more. */
export const MATCH_ALL: readonly string[] = [
  ".*", ".+", "[\\s\\S]*", "(.*)", "^.*$", ".*?", "(?:)", "^(?:.*)$", "[^/]+", "(?s).*", "\\S+",
  "[a-z0-9.-]+", ".*\\..*", "a*|.+",
];
