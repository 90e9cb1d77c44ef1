// Reads the shell examples out of the Markdown documentation and runs them, so the docs say only what the binary does.
//
// What counts as an example, in README.md and docs/*.md:
// - a ```sh block: a script, cut into whole commands as bash reads them. Comment lines right after a command say
//   what the command answers (a comment at the end of its last line is a remark, unless it starts with a status): `# 409 {...}` (the HTTP status curl saw, then the body), `# 204`,
//   `# names: A, B` (the `name` attributes of the listed resources, in order), or a body with `...` where parts are
//   left out. Comments before a command are headings and are not checked.
// - a ```console block: `$ command` lines (continued until bash would take the command as whole), each followed by
//   the output it prints. Output lines are matched in order (`...` stands for anything; ids, times, ports and
//   durations may differ). A command whose output shows `error:` may fail; otherwise it must exit 0, unless the next
//   command is `echo $?`, whose output then states the exit code.
// - a block of any language right after a paragraph saying "Save this as `NAME`" is written to the file NAME.
// - `<!-- doctest: skip REASON -->` right before a block: not run (the reason is reported).
// - `<!-- doctest: after PAGE -->`: this page continues PAGE's session (its server, variables and rows), as it
//   tells the reader to follow PAGE first.
// - `<!-- doctest: COMMANDS -->` anywhere: run at that point but not shown (state an example needs that the
//   page does not build itself, e.g. a second user).
// Each file runs top to bottom in one bash session in an empty directory. `daptin serve` (with or without `&`)
// starts the server in the background and waits until it listens; later examples reach it at localhost:6336,
// which is mapped onto the free port the test chose.

export interface Expectation {
  /** The HTTP status the command's (last) curl must have answered. */
  status?: number;
  /** The `name` attributes of `data`, in order. */
  names?: string[];
  /** The body or output, with `...` for what is left out. */
  text?: string;
  /** For console blocks: the output lines. */
  lines?: string[];
}

export interface Step {
  file: string;
  line: number;
  kind: "run" | "hidden" | "write" | "skip" | "after";
  command: string;
  expect?: Expectation;
  /** console: the command may fail (its output shows an error, or the next command checks `$?`). */
  mayFail?: boolean;
  /** write: file name and content. */
  path?: string;
  content?: string;
  /** skip: why. */
  reason?: string;
}

const FENCE = /^```(\S*)\s*$/;
const SAVE_AS = /[Ss]ave (?:this|it) as `([^`]+)`/;
const DOCTEST = /^<!--\s*doctest:\s*([\s\S]*?)\s*-->\s*$/;

/** The steps of one Markdown file, in order. */
export function parseExamples(file: string, markdown: string): Step[] {
  const lines = markdown.split("\n");
  const steps: Step[] = [];
  let pendingSkip: string | undefined;
  let saveAs: string | undefined;
  let paragraph = "";
  let paragraphDone = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const directive = doctestDirective(lines, i);
    if (directive) {
      i = directive.end;
      if (directive.body.startsWith("skip")) pendingSkip = directive.body.slice(4).trim() || "no reason given";
      else if (directive.body.startsWith("after ")) steps.push({ file, line: i + 1, kind: "after", command: "", path: directive.body.slice(6).trim() });
      else steps.push({ file, line: i + 1, kind: "hidden", command: directive.body });
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      // The paragraph just before a block says whether the block is a file to save.
      if (line.trim() === "") paragraphDone = true;
      else {
        paragraph = paragraphDone ? line : `${paragraph} ${line}`;
        paragraphDone = false;
      }
      continue;
    }
    saveAs = SAVE_AS.exec(paragraph)?.[1];
    paragraph = "";
    const lang = fence[1]!;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const body = lines.slice(start, end);
    i = end;
    if (pendingSkip !== undefined) {
      steps.push({ file, line: start, kind: "skip", command: body.join("\n"), reason: pendingSkip });
      pendingSkip = undefined;
      continue;
    }
    if (saveAs) {
      steps.push({ file, line: start, kind: "write", command: "", path: saveAs, content: `${body.join("\n")}\n` });
      continue;
    }
    if (lang === "sh" || lang === "bash") steps.push(...scriptSteps(file, start, body));
    else if (lang === "console") steps.push(...consoleSteps(file, start, body));
  }
  return steps;
}

/** A `<!-- doctest: ... -->` comment starting at line i (it may span lines). */
function doctestDirective(lines: string[], i: number): { body: string; end: number } | undefined {
  if (!lines[i]!.trimStart().startsWith("<!-- doctest:")) return undefined;
  let end = i;
  let text = lines[i]!;
  while (!text.includes("-->") && end + 1 < lines.length) text += `\n${lines[++end]!}`;
  const m = DOCTEST.exec(text.trim());
  if (!m) throw new Error(`line ${i + 1}: unterminated doctest comment`);
  return { body: m[1]!, end };
}

/** Where an unquoted `#` comment starts in a line of shell, given the quote state at its start; -1 if none. */
function scan(line: string, state: { quote: string | null }): { comment: number } {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (state.quote === "'") {
      if (c === "'") state.quote = null;
    } else if (state.quote === '"') {
      if (c === "\\") i++;
      else if (c === '"') state.quote = null;
    } else if (c === "\\") i++;
    else if (c === "'" || c === '"') state.quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return { comment: i };
  }
  return { comment: -1 };
}

/** Whether `text` is one whole shell command (bash would not ask for more lines). */
function complete(text: string): boolean {
  if (/\\$/.test(text)) return false;
  const r = Bun.spawnSync(["bash", "-n", "-c", text], { stderr: "pipe", stdout: "ignore" });
  return r.exitCode === 0 || !/unexpected (end of file|EOF)/.test(r.stderr.toString());
}

function scriptSteps(file: string, first: number, body: string[]): Step[] {
  const steps: Step[] = [];
  let current: { line: number; text: string[] } | undefined;
  let last: { step: Step; notes: string[]; inline?: string } | undefined;
  const settle = () => {
    if (!last) return;
    const inline = last.inline !== undefined && /^\d{3}\b/.test(last.inline) ? [last.inline.slice(0, 3)] : [];
    last.step.expect = expectation([...inline, ...last.notes]);
    last = undefined;
  };
  for (const [k, raw] of body.entries()) {
    if (!current) {
      const t = raw.trim();
      if (t === "") {
        settle();
        continue;
      }
      if (t.startsWith("#")) {
        // Right after a command: what it answers. Otherwise (after a blank line, or first): a heading.
        if (last) last.notes.push(t.replace(/^#\s?/, ""));
        continue;
      }
      settle();
      current = { line: first + k + 1, text: [] };
    }
    current.text.push(raw);
    const text = current.text.join("\n");
    if (!complete(text)) continue;
    // A comment at the end of the command's last line (outside quotes) is a remark; `# 204` states the status.
    const state = { quote: null as string | null };
    for (const l of current.text.slice(0, -1)) scan(l, state);
    const { comment } = scan(raw, state);
    const step: Step = { file, line: current.line, kind: "run", command: text };
    steps.push(step);
    last = { step, notes: [], inline: comment >= 0 ? raw.slice(comment).replace(/^#\s?/, "").trim() : undefined };
    current = undefined;
  }
  if (current) steps.push({ file, line: current.line, kind: "run", command: current.text.join("\n") });
  settle();
  return steps;
}

function expectation(notes: string[]): Expectation | undefined {
  if (notes.length === 0) return undefined;
  let text = notes.join(" ").trim();
  const out: Expectation = {};
  const status = /^(\d{3})\b[,:]?\s*/.exec(text);
  if (status) {
    out.status = Number(status[1]);
    text = text.slice(status[0].length);
  }
  const names = /^names: (.*)$/.exec(text);
  if (names) out.names = names[1]!.split(",").map((s) => s.trim()).filter(Boolean);
  else if (text !== "") out.text = text;
  return out;
}

function consoleSteps(file: string, first: number, body: string[]): Step[] {
  const steps: Step[] = [];
  let current: Step | undefined;
  let open = false;
  for (const [k, raw] of body.entries()) {
    if (current && open) {
      current.command += `\n${raw}`;
      open = !complete(current.command);
      continue;
    }
    if (raw.startsWith("$ ")) {
      current = { file, line: first + k + 1, kind: "run", command: raw.slice(2), expect: { lines: [] } };
      steps.push(current);
      open = !complete(current.command);
      continue;
    }
    if (!current) throw new Error(`${file}:${first + k + 1}: console output before any "$ " command`);
    current.expect!.lines!.push(raw);
  }
  for (const [i, s] of steps.entries()) {
    const next = steps[i + 1];
    s.mayFail = (s.expect?.lines ?? []).some((l) => l.startsWith("error:")) || next?.command.trim() === "echo $?";
  }
  return steps;
}

/** Values that differ from run to run, written the same way in expected and actual text. */
export function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?/g, "<time>")
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "<token>")
    .replace(/\b[0-9a-f]{40}\b/g, "<sha1>")
    .replace(/\b(localhost|127\.0\.0\.1|0\.0\.0\.0):\d+/g, "$1:<port>")
    .replace(/port: :\d+/g, "port: :<port>")
    .replace(/ProcessId=\d+/g, "ProcessId=<pid>")
    .replace(/\b\d+(\.\d+)? (ms|s)\b/g, "<n> $2")
    .replace(/\/tmp\/[\w./-]+/g, "<path>");
}

/** `...` in an expected text matches anything; so does a UUID cut short with `...` (`01a215b1-...`, `01a215b1-d535-...`). */
export function pattern(expected: string): RegExp {
  const text = normalise(expected).replace(/\b[0-9a-f]{8}(-[0-9a-f]{1,4})*-\.\.\./g, "...");
  const parts = text.split("...").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s*"));
  return new RegExp(parts.join("[\\s\\S]*?"));
}

/** Whether every expected line matches an actual line, in order (extra actual lines are allowed). */
export function linesMatch(expected: string[], actual: string[]): { ok: true } | { ok: false; missing: string } {
  let at = 0;
  for (const e of expected) {
    if (e.trim() === "..." || e.trim() === "") continue;
    const re = new RegExp(`^${pattern(e).source}\\s*$`);
    while (at < actual.length && !re.test(normalise(actual[at]!))) at++;
    if (at === actual.length) return { ok: false, missing: e };
    at++;
  }
  return { ok: true };
}
