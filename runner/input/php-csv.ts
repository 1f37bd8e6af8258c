// Records as PHP's fgetcsv reads them back (enclosure `"`, escape `\`, the defaults EC-CUBE's
// CsvExportService writes with). fputcsv doubles a quote inside a field unless a backslash comes
// right before it, so `5\"` is written `"5\""`, which RFC 4180 parsers refuse. Inside quotes, the
// escape character stays in the value and makes the next character literal; `""` is one quote.
// EC-CUBE's own CSV import converts to UTF-8 first and then reads with these rules, so they run
// on the decoded text.

/** The cells of one record (its text without the line ending), or why it does not parse. */
export function parsePhpRecord(text: string): string[] | string {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    // fgetcsv skips blanks before an opening quote, and only then.
    while (text[i] === " " || text[i] === "\t") i++;
    let cell: string;
    if (text[i] === '"') {
      const quoted = readQuoted(text, i + 1);
      if (typeof quoted === "string") return quoted;
      // Whatever follows the closing quote up to the delimiter is kept, as fgetcsv does.
      const comma = indexOrEnd(text, ",", quoted.end);
      cell = quoted.value + text.slice(quoted.end, comma);
      i = comma;
    } else {
      i = indexOrEnd(text, ",", start);
      cell = text.slice(start, i);
    }
    cells.push(cell);
    if (i >= text.length) return cells;
    i++; // the comma
  }
}

function readQuoted(text: string, from: number): { value: string; end: number } | string {
  let value = "";
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      value += c + text[i + 1];
      i += 2;
    } else if (c === '"') {
      if (text[i + 1] !== '"') return { value, end: i + 1 };
      value += '"';
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  return "Quote Not Closed: the quoted field never closes (read with PHP's fgetcsv rules)";
}

const indexOrEnd = (text: string, needle: string, from: number) => {
  const at = text.indexOf(needle, from);
  return at === -1 ? text.length : at;
};
