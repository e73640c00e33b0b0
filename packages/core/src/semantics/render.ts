import { ERROR_CODES, ERROR_CODE_LIST } from '../errors/codes.js';
import { CAPABILITY_CATALOG, CAPABILITY_IDS } from '../capabilities/catalog.js';
import { COMMON_ERRORS, OPERATIONS, OPERATION_NAMES, operationsOfCapability, type ArgumentDescriptor } from '../operations/registry.js';
import { POWER_STATE_VALUES } from '../schemas/power-state.js';
import { CELL_CHANGES, SEMANTICS } from './table.js';
import { SEMANTIC_STATES, TABLE_OPERATIONS } from './states.js';
import { RULES } from './rules.js';
import { MIGRATION_KINDS, MIGRATION_RULES, MIGRATION_SEMANTICS } from '../migration/semantics.js';

function cellText(op: (typeof TABLE_OPERATIONS)[number], state: (typeof SEMANTIC_STATES)[number]): string {
  const cell = SEMANTICS[state][op];
  if (cell.kind === 'error') return cell.error;
  if (cell.noop) return 'no-op';
  if (op === 'spawn') return 'RUNNING (SHUTDOWN if powerOn is false)';
  if (cell.to === state) return 'ok';
  return `→ ${cell.to}`;
}

/**
 * The contract's reference tables as Markdown, generated from the code so the prose in
 * docs/contract.md cannot drift from what drivers and the suite actually use.
 */
export function renderContractTables(): string {
  const out: string[] = [];
  out.push('### Power states', '', '| State | Nova value |', '|---|---|');
  for (const [name, value] of Object.entries(POWER_STATE_VALUES)) out.push(`| ${name} | 0x${value.toString(16).padStart(2, '0')} |`);
  out.push('', '### Error codes', '', '| Code | Number | Retryable | Recovery |', '|---|---|---|---|');
  for (const code of ERROR_CODE_LIST) {
    const e = ERROR_CODES[code];
    out.push(`| ${code} | ${e.number} | ${e.retryable ? 'yes' : 'no'} | ${e.recovery} |`);
  }
  out.push('', '### Capabilities', '', '| Capability id | Title | Profile | In Nova\'s matrix | Operations |', '|---|---|---|---|---|');
  for (const id of CAPABILITY_IDS) {
    const c = CAPABILITY_CATALOG[id];
    const ops = operationsOfCapability(id);
    out.push(`| \`${id}\` | ${c.title} | ${c.profile} | ${c.nova ? 'yes' : 'no'} | ${ops.length ? ops.join(', ') : '—'} |`);
  }
  out.push(
    '',
    '### Operations',
    '',
    `Every operation may also raise: ${COMMON_ERRORS.join(', ')}.`,
    '',
    '| Operation | Arguments | Capability | Mandatory | Idempotent | Default timeout | Table columns | Since | Errors |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const name of OPERATION_NAMES) {
    const o = OPERATIONS[name];
    const args = (o.args as readonly ArgumentDescriptor[]).map((a) => a.name).join(', ') || '—';
    const columns = (o.columns as readonly string[]).join(', ') || '—';
    out.push(
      `| ${name} | ${args} | ${o.capability ? `\`${o.capability}\`` : '—'} | ${o.mandatory ? 'yes' : 'no'} | ${o.idempotent ? 'yes' : 'no'} | ${o.defaultTimeoutMs / 1000} s | ${columns} | ${o.since} | ${o.errors.join(', ') || '—'} |`,
    );
  }
  out.push(
    '',
    '### Semantics table',
    '',
    'Rows: operations. Columns: the state the instance is in. A cell is the resulting state (`→ X`), `ok` (state',
    'unchanged, the operation did its work), `no-op` (already in the target state: success, nothing changes), or the',
    'exact error code. Cell rule ids are `R-<OPERATION>-<STATE>`, e.g. `R-PAUSE-SHUTDOWN`.',
    '',
    `| Operation | ${SEMANTIC_STATES.join(' | ')} |`,
    `|---|${SEMANTIC_STATES.map(() => '---').join('|')}|`,
  );
  for (const op of TABLE_OPERATIONS) out.push(`| ${op} | ${SEMANTIC_STATES.map((s) => cellText(op, s)).join(' | ')} |`);
  out.push(
    '',
    '### Cells changed since 1.0',
    '',
    'A driver whose baseline is older than a change is held to the cell as it was (R-BASELINE).',
    '',
    '| Cell | Was | Now | Since | Why |',
    '|---|---|---|---|---|',
  );
  for (const c of CELL_CHANGES) {
    const was = c.was === 'refused' ? 'INVALID_STATE' : c.was === 'same' ? 'ok' : `→ ${c.was}`;
    out.push(`| ${c.column} in ${c.state} | ${was} | ${cellText(c.column, c.state)} | ${c.since} | ${c.reason} |`);
  }
  out.push('', '### General rules', '');
  for (const [id, text] of Object.entries(RULES)) out.push(`- **${id}**: ${text}`);
  out.push(
    '',
    '### Migration table (since 1.2.0)',
    '',
    'What `migrate` does on the source in each state, per kind: the state the instance arrives in on the destination,',
    'or the exact error (nothing moves). Cell rule ids are `R-MIGRATE-<KIND>-<STATE>`.',
    '',
    '| Kind | State | Outcome | Why |',
    '|---|---|---|---|',
  );
  for (const kind of MIGRATION_KINDS) {
    for (const state of SEMANTIC_STATES) {
      const c = MIGRATION_SEMANTICS[kind][state];
      out.push(`| ${kind} | ${state} | ${c.kind === 'ok' ? `→ ${c.to}` : c.error} | ${c.why} |`);
    }
  }
  out.push('', '### Migration rules', '');
  for (const [id, text] of Object.entries(MIGRATION_RULES)) out.push(`- **${id}**: ${text}`);
  return out.join('\n') + '\n';
}
