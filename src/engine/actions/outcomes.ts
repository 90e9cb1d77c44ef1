// The outcome chain (spec 40 section 3): each outcome's attributes are evaluated against the context, then it
// creates, reads, updates or deletes rows, answers the client, or calls a performer. CRUD outcomes run with the
// caller's rights raised to administrator (the action's own gates were the access control); performers get the
// real caller. Consecutive synchronous outcomes share one transaction; any failure rolls all of it back. Passwords
// the chain writes are hashed before any of its transactions opens when their values are known at the start.
import { badRequest, notFound } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { type JsonValue, ReadyHashes } from "../schema/column-types/index.ts";
import { type Context, conditionHolds, evaluate, evaluateAhead, EvaluationError, hasScript, scriptAhead } from "./expressions.ts";
import type { Performer, PerformerContext } from "./performers/context.ts";
import { ScriptBudget, ScriptError } from "./sandbox.ts";
import { type ActionDef, type ActionResponse, notify, type OutcomeDef, type Progress } from "./types.ts";

const CRUD = new Set(["POST", "GET", "GET_BY_ID", "PATCH", "DELETE"]);

const MiB = 1024 * 1024;
/**
 * What the outcomes of one call may answer together (ACTIONRESPONSE and CRUD items as JSON): each script result is
 * capped, but references can repeat one any number of times. Performers' answers (an export's file) are not counted.
 */
export const MAX_RESPONSE_BYTES = 8 * MiB;

interface ChainCall {
  who: Identity;
  progress?: Progress;
  client?: string;
  action: ActionDef;
  /** The request's attributes (performer outcomes without their own Attributes receive these). */
  attributes: Record<string, JsonValue>;
  ctx: Context;
  /** Script time of this call, shared by all its evaluations. */
  scripts: ScriptBudget;
  /** Password hashes made before the chain started (`hashAhead`). */
  hashes: ReadyHashes;
  /** Attribute values of outcomes evaluated before the chain started (scripted passwords), by outcome. */
  ahead: Map<OutcomeDef, Record<string, JsonValue>>;
  /** UTF-8 bytes of the items answered so far that count against MAX_RESPONSE_BYTES. */
  answered: number;
}

interface Step {
  responses: ActionResponse[];
  result?: JsonValue;
}

export class OutcomeChain {
  constructor(
    private readonly pctx: PerformerContext,
    private readonly performers: Record<string, Performer>,
  ) {}

  async run(request: Omit<ChainCall, "scripts" | "hashes" | "ahead" | "answered">): Promise<ActionResponse[]> {
    const scripts = new ScriptBudget(request.client);
    const ahead = new Map<OutcomeDef, Record<string, JsonValue>>();
    const hashes = await this.hashAhead(request.action, request.attributes, request.ctx, scripts, ahead);
    const call: ChainCall = { ...request, scripts, hashes, ahead, answered: 0 };
    const out: ActionResponse[] = [];
    let who = call.who;
    const outcomes = call.action.OutFields ?? [];
    let i = 0;
    while (i < outcomes.length) {
      const o = outcomes[i]!;
      const performer = this.performerOf(o);
      if (performer?.async) {
        // Runs outside any transaction: what came before it is already committed. As for synchronous outcomes, the
        // Condition is checked before the attributes are built, and a ContinueOnError failure is reported.
        const input = conditionHolds(o.Condition, call.ctx, call.scripts) ? this.input(o, call, out) : undefined;
        if (input === undefined) {
          i++;
          continue;
        }
        const responses = await performer.run({ who, action: call.action, attributes: input, progress: call.progress, client: call.client }, this.pctx);
        this.record(o, { responses }, call, out);
        i++;
        continue;
      }
      // A run of synchronous outcomes: one transaction.
      let j = i;
      while (j < outcomes.length && !this.performerOf(outcomes[j]!)?.async) j++;
      const segment = outcomes.slice(i, j);
      try {
        this.pctx.db.transaction(() => {
          for (const step of segment) {
            if (!conditionHolds(step.Condition, call.ctx, call.scripts)) continue;
            const input = this.input(step, call, out);
            if (input === undefined) continue;
            if (step.Method.toUpperCase() === "SWITCH_USER") {
              const target = this.pctx.users.byRef(String(input.user_reference_id ?? ""));
              if (!target) throw notFound("No such user", `No such user user_reference_id [${String(input.user_reference_id ?? "")}]`);
              who = target;
              continue;
            }
            this.record(step, this.runSync(step, input, who, call), call, out);
          }
        });
      } catch (e) {
        // A list read inside the rolled-back transaction may have remembered rows that are gone now.
        this.pctx.data.forgetLists();
        throw e;
      }
      i = j;
    }
    return out;
  }

  /**
   * Hashes, on worker threads and before any transaction, the passwords the chain's POST and PATCH outcomes will
   * write whose values are known now (request attributes, literals, references to what no outcome sets, scripts that
   * name no Reference: those are evaluated now, once, into `ahead`). A password computed from an earlier outcome's
   * result is hashed synchronously when written.
   */
  private async hashAhead(
    action: ActionDef, attributes: Record<string, JsonValue>, ctx: Context, scripts: ScriptBudget, ahead: Map<OutcomeDef, Record<string, JsonValue>>,
  ): Promise<ReadyHashes> {
    const hashes = new ReadyHashes();
    const outcomes = action.OutFields ?? [];
    const later = new Set(outcomes.flatMap((o) => (o.Reference ? [o.Reference] : [])));
    const work: Promise<unknown>[] = [];
    for (const o of outcomes) {
      const m = o.Method.toUpperCase();
      const table = m === "POST" || m === "PATCH" ? this.pctx.registry().get(o.Type) : undefined;
      const values: Record<string, JsonValue> = {};
      for (const c of table?.columns ?? []) {
        if (c.family.name !== "password") continue;
        let v: JsonValue | undefined;
        // Without Attributes an outcome writes the request's attributes as they are.
        if (o.Attributes === undefined) v = attributes[c.ColumnName];
        else if (hasScript(o.Attributes[c.ColumnName])) {
          v = scriptAhead(o.Attributes[c.ColumnName], ctx, later, scripts);
          if (v !== undefined) ahead.set(o, { ...ahead.get(o), [c.ColumnName]: v });
        } else v = evaluateAhead(o.Attributes[c.ColumnName], ctx, later, scripts);
        if (v !== undefined) values[c.ColumnName] = v;
      }
      if (Object.keys(values).length > 0) work.push(this.pctx.data.hashAhead(o.Type, [values], { into: hashes }));
    }
    await Promise.all(work);
    return hashes;
  }

  private performerOf(o: OutcomeDef): Performer | undefined {
    const m = o.Method.toUpperCase();
    if (CRUD.has(m) || m === "ACTIONRESPONSE" || m === "SWITCH_USER") return undefined;
    return this.performers[o.Type];
  }

  /** The evaluated input of an outcome, or undefined when it could not be built and ContinueOnError says go on. */
  private input(o: OutcomeDef, call: ChainCall, out?: ActionResponse[]): Record<string, JsonValue> | undefined {
    if (o.Attributes === undefined) return { ...call.attributes, __type: o.Type };
    const ahead = call.ahead.get(o);
    try {
      const rest = ahead ? Object.fromEntries(Object.entries(o.Attributes).filter(([k]) => !(k in ahead))) : o.Attributes;
      const v = evaluate(rest, call.ctx, call.scripts);
      return { ...((v ?? {}) as Record<string, JsonValue>), ...ahead, __type: o.Type };
    } catch (e) {
      if (!(e instanceof EvaluationError || e instanceof ScriptError)) throw e;
      if (o.ContinueOnError) {
        out?.push({ ResponseType: "error", Attributes: { message: `Failed to build outcome ${o.Type}: ${e.message}` } });
        return undefined;
      }
      throw badRequest("Invalid action input", `invalid input for ${o.Type} => ${e.message}`);
    }
  }

  private runSync(o: OutcomeDef, input: Record<string, JsonValue>, who: Identity, call: ChainCall): Step {
    const m = o.Method.toUpperCase();
    const data = this.pctx.data;
    // CRUD outcomes act with administrator rights; rows they create still belong to the caller.
    const elevated: Identity = { ...who, isAdmin: true };
    const { __type: _t, ...attrs } = input;
    const refOf = () => {
      const id = attrs.reference_id;
      if (typeof id !== "string" || id === "") throw badRequest("Invalid action input", `no reference id provided for ${m} on ${o.Type}`);
      return id;
    };
    switch (m) {
      case "POST": {
        const r = data.createSync(elevated, o.Type, { attributes: attrs }, call.hashes);
        return { responses: [{ ResponseType: o.Type, Attributes: r.attributes }], result: r.attributes };
      }
      case "GET": {
        const q = (k: string) => (attrs[k] === undefined ? undefined : typeof attrs[k] === "string" ? (attrs[k] as string) : JSON.stringify(attrs[k]));
        const list = data.list(elevated, o.Type, {
          query: q("query"), filter: q("filter"), sort: q("sort"), fields: q("fields"),
          pageNumber: q("page[number]"), pageSize: q("page[size]"),
        });
        const rows = list.resources.map((r) => r.attributes);
        return { responses: [{ ResponseType: o.Type, Attributes: rows as unknown as Record<string, JsonValue> }], result: rows };
      }
      case "GET_BY_ID": {
        const r = data.get(elevated, o.Type, refOf());
        return { responses: [{ ResponseType: o.Type, Attributes: r.attributes }], result: r.attributes };
      }
      case "PATCH": {
        const { reference_id: _r, ...changes } = attrs;
        const r = data.updateSync(elevated, o.Type, refOf(), { attributes: changes }, call.hashes);
        return { responses: [{ ResponseType: o.Type, Attributes: r.attributes }], result: r.attributes };
      }
      case "DELETE": {
        data.delete(elevated, o.Type, refOf());
        const note = notify("success", "Success", `Deleted ${o.Type}`);
        return { responses: [note], result: [note.Attributes] };
      }
      case "ACTIONRESPONSE":
        return { responses: [{ ResponseType: o.Type, Attributes: input }], result: input };
      default: {
        const p = this.performers[o.Type];
        // An unknown performer is skipped, as in Daptin.
        if (!p || p.async) return { responses: [] };
        const responses = p.run({ who, action: call.action, attributes: input, progress: call.progress, client: call.client }, this.pctx);
        return { responses, result: responses.map((r) => r.Attributes) as unknown as JsonValue };
      }
    }
  }

  private record(o: OutcomeDef, step: Step, call: ChainCall, out: ActionResponse[]): void {
    if (o.Reference) call.ctx[o.Reference] = step.result ?? (step.responses.map((r) => r.Attributes) as unknown as JsonValue);
    if (o.LogToConsole) for (const r of step.responses) console.error(`action ${o.Type}: ${JSON.stringify(r)}`);
    if (o.SkipInResponse) return;
    if (!this.performerOf(o)) {
      for (const r of step.responses) call.answered += Buffer.byteLength(JSON.stringify(r));
      if (call.answered > MAX_RESPONSE_BYTES) {
        throw badRequest("Response too large", `the action's outcomes answer more than ${MAX_RESPONSE_BYTES / MiB} MiB (the limit of one call's response)`);
      }
    }
    out.push(...step.responses);
  }
}
