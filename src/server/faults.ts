// Fault injection for test fixtures (`kmipd serve --fault SPEC`, repeatable), so that a client's
// error handling can be tested against a real server:
//   op=Get,reason=ItemNotFound   answer Get with that Result Reason (KMIP normalised name)
//   op=Create,delay=200          hold Create for 200 ms before running it
//   op=Destroy,drop              close the connection instead of answering
//   times=N                      apply the rule to the first N matching operations only
// op=* matches every operation. delay combines with reason or drop. Rules are tried in order;
// the first that matches applies.

import { KmipError } from '../errors.js';
import { Tag } from '../ttlv/spec/generated.js';
import { enumName, enumValue } from '../ttlv/spec/index.js';

/** Hooks the message layer runs around every batch item when it has any. */
export interface OperationHooks {
  /**
   * Before the operation's handler. May wait, throw a KmipError (answered as the item's
   * failure) or throw ConnectionDrop (the connection is closed without an answer).
   */
  before?(operation: string): Promise<void> | void;
  /** After the item, with 'Success' or the Result Reason name, and the seconds it took. */
  after?(operation: string, result: string, seconds: number): void;
}

/** Thrown out of the message layer to close the connection without a response. */
export class ConnectionDrop extends Error {
  override readonly name = 'InjectedConnectionDrop';
}

export interface FaultRule {
  /** Normalised Operation name, or '*'. */
  operation: string;
  reason?: number;
  delayMs?: number;
  drop?: boolean;
  /** Matching operations left to fault; undefined is every one. */
  times?: number;
}

/** Longest delay a rule may ask for: a fixture must not hold a CI job for minutes. */
export const MAX_FAULT_DELAY_MS = 60_000;

function bad(spec: string, why: string): Error {
  return new Error(`--fault '${spec}': ${why}`);
}

export function parseFault(spec: string): FaultRule {
  const rule: Partial<FaultRule> = {};
  for (const part of spec.split(',')) {
    const [rawKey, ...rest] = part.split('=');
    const key = rawKey!.trim();
    const value = rest.join('=').trim();
    switch (key) {
      case 'op':
        if (value !== '*' && enumValue(Tag.Operation, value) === undefined)
          throw bad(spec, `unknown operation '${value}' (KMIP names such as Get, Create, Destroy)`);
        rule.operation =
          value === '*' ? '*' : enumName(Tag.Operation, enumValue(Tag.Operation, value)!)!;
        break;
      case 'reason': {
        const reason = enumValue(Tag.ResultReason, value);
        if (reason === undefined)
          throw bad(spec, `unknown Result Reason '${value}' (e.g. ItemNotFound, PermissionDenied)`);
        rule.reason = reason;
        break;
      }
      case 'delay': {
        const ms = Number(value);
        if (value === '' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_FAULT_DELAY_MS)
          throw bad(spec, `delay must be whole milliseconds from 0 to ${MAX_FAULT_DELAY_MS}`);
        rule.delayMs = ms;
        break;
      }
      case 'drop':
        if (value !== '') throw bad(spec, 'drop takes no value');
        rule.drop = true;
        break;
      case 'times': {
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 1) throw bad(spec, 'times must be a whole number >= 1');
        rule.times = n;
        break;
      }
      default:
        throw bad(spec, `unknown part '${key}' (op, reason, delay, drop, times)`);
    }
  }
  if (rule.operation === undefined) throw bad(spec, 'name the operation with op=NAME');
  if (rule.reason === undefined && rule.delayMs === undefined && !rule.drop)
    throw bad(spec, 'give reason=NAME, delay=MS or drop');
  if (rule.reason !== undefined && rule.drop) throw bad(spec, 'reason and drop exclude each other');
  return rule as FaultRule;
}

/** The hooks that apply the rules. */
export function faultHooks(rules: readonly FaultRule[]): OperationHooks {
  const live = rules.map((r) => ({ ...r }));
  return {
    async before(operation) {
      const rule = live.find(
        (r) => (r.operation === '*' || r.operation === operation) && r.times !== 0,
      );
      if (rule === undefined) return;
      if (rule.times !== undefined) rule.times--;
      if (rule.delayMs !== undefined && rule.delayMs > 0) {
        await new Promise((r) => setTimeout(r, rule.delayMs));
      }
      if (rule.drop) throw new ConnectionDrop(`injected fault: ${operation} drops the connection`);
      if (rule.reason !== undefined) {
        throw new KmipError(rule.reason, `injected fault for ${operation}`);
      }
    },
  };
}

/** Hooks run one after the other (faults first, so metrics see injected failures). */
export function combineHooks(list: ReadonlyArray<OperationHooks | undefined>) {
  const hooks = list.filter((h): h is OperationHooks => h !== undefined);
  if (hooks.length === 0) return undefined;
  if (hooks.length === 1) return hooks[0];
  return {
    async before(operation: string) {
      for (const h of hooks) await h.before?.(operation);
    },
    after(operation: string, result: string, seconds: number) {
      for (const h of hooks) h.after?.(operation, result, seconds);
    },
  } satisfies OperationHooks;
}
