import { checkRestart } from '../properties/restart.js';
import { checkWitness } from '../properties/witness.js';
import type { ExecContext } from './context.js';
import type { Session } from './session.js';
import { teardown } from './teardown.js';

/**
 * The end of every sequence, after its calls and endOfSequence (`failure`: what they threw, if
 * anything): the backend witness (P-BACKEND-WITNESS), the restart (P-RESTART, with `reopen`,
 * the run's driver factory), the teardown, then the witness again once the teardown's
 * releases are due. Returns the first failure. When the restart replaced the session, the new
 * one is closed here (the caller closes the one it opened; closing twice does nothing).
 */
export async function finishSequence(ctx: ExecContext, failure: unknown, reopen: (() => Promise<Session>) | undefined): Promise<unknown> {
  const opened = ctx.session;
  try {
    failure ??= await checkWitness(ctx, 'sequence');
    failure ??= await checkRestart(ctx, reopen);
    const clean = await teardown(ctx, failure === undefined);
    failure ??= clean;
    failure ??= await checkWitness(ctx, 'teardown');
    return failure;
  } finally {
    if (ctx.session !== opened) await ctx.session.close();
  }
}
