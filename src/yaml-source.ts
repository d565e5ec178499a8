import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document, type YAMLError } from 'yaml';

/** A YAML file turned into plain data, able to say where in the file a path of that data stands. */
export interface YamlSource {
  raw: unknown;
  /** `file:line:col` of the deepest node of `path` present in the document (`file` alone if none). */
  locate(path: readonly PropertyKey[], options?: { key?: boolean }): string;
}

/**
 * Parse YAML text for a loader that validates it afterwards. `fail(where, problem)` must throw the loader's
 * own error type; it is called for syntax errors, duplicate keys and aliases that do not resolve.
 */
export function parseYamlSource(text: string, file: string, fail: (where: string, problem: string, cause?: unknown) => never): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const { line, col, problem } = plainError(doc.errors[0]!, text);
    fail(line ? `${file}:${line}:${col}` : file, `not valid YAML: ${problem}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // An alias without its anchor, or an alias bomb, only shows when the document is turned into data.
    fail(file, `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, err);
  }
  return {
    raw,
    locate(path, options = {}) {
      const at = (range: readonly number[]) => {
        const pos = lineCounter.linePos(range[0]!);
        return `${file}:${pos.line}:${pos.col}`;
      };
      // An unknown key is pointed at itself rather than at its value.
      const parent = options.key && path.length > 0 ? doc.getIn(path.slice(0, -1) as unknown[], true) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
        if (pair && isScalar(pair.key) && pair.key.range) return at(pair.key.range);
      }
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) return at(node.range);
      }
      return file;
    },
  };
}

/** Indentation, in spaces, of a line (tabs count as one character). */
function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * A parser error in words a scenario author knows, at the line that needs fixing. The parser reports a key
 * indented too far on the line before it ("nested mappings are not allowed in compact mappings"), since it
 * reads the deeper line as the rest of the value above; here the deeper line itself is named.
 */
function plainError(e: YAMLError, text: string): { line?: number; col?: number; problem: string } {
  const at = e.linePos?.[0];
  const parser = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (!at) return { problem: parser };
  const lines = text.split('\n');
  const SAME_COLUMN = 'the keys of one mapping must start in the same column';
  switch (e.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY': {
      const base = indentOf(lines[at.line - 1] ?? '');
      for (let n = at.line; n < lines.length; n++) {
        const l = lines[n]!;
        if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
        if (indentOf(l) > base && /^\s*[^\s#][^:#]*:(\s|$)/.test(l)) {
          return { line: n + 1, col: indentOf(l) + 1, problem: `this key is indented more than the line above it (${SAME_COLUMN}; or the line above is missing a value)` };
        }
        break;
      }
      return { line: at.line, col: at.col, problem: `a value here runs over more than one line, or a key is indented too far (${parser})` };
    }
    case 'BAD_INDENT':
      return { line: at.line, col: at.col, problem: `this line is indented differently from the keys above it (${SAME_COLUMN})` };
    case 'TAB_AS_INDENT':
      return { line: at.line, col: at.col, problem: 'this line is indented with a tab; YAML indents with spaces only' };
    case 'DUPLICATE_KEY':
      return { line: at.line, col: at.col, problem: 'this key appears twice in the same mapping' };
    default:
      return { line: at.line, col: at.col, problem: parser };
  }
}
