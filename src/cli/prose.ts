/**
 * Help text is written hard-wrapped in the source, and oclif wraps it again to the terminal: the two
 * wraps together give ragged lines. This joins the lines of each paragraph so that oclif's wrap is
 * the only one. An indented line (a list item, a command) starts a line of its own; a line indented
 * deeper than the item above it continues that item.
 */
export function prose(text: string): string {
  return text
    .split('\n\n')
    .map((paragraph) => {
      const lines: { indent: number; text: string }[] = [];
      for (const line of paragraph.split('\n')) {
        const indent = line.length - line.trimStart().length;
        const last = lines.at(-1);
        if (last && (indent === 0 ? last.indent === 0 : indent > last.indent && last.indent > 0)) last.text += ` ${line.trim()}`;
        else lines.push({ indent, text: line });
      }
      return lines.map((l) => l.text).join('\n');
    })
    .join('\n\n');
}
