import { FixedBpsSlippage, InstrumentFeeModel, VolumeParticipationFillModel } from '../../src/backtest/execution-models.js';
import { SimulatedExecutionClient } from '../../src/backtest/simulated-execution-client.js';
import { blankCommand, copyCommand } from '../../src/core/order.js';
import { TestClock } from '../../src/engine/clock.js';
import type { ExecutionClient } from '../../src/engine/execution-client.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { testInstrument } from '../support/engine-scenarios.js';
import { runExecutionClientContract, type EventRecorder, type ExecutionVenueHarness, type HarnessOptions } from './execution-client.contract.js';

/**
 * The simulator behind the contract: fills booked into a Portfolio, prices one second apart, no slippage. `reuse`: as
 * the kernel drives it, with a receiver that keeps no events (the venue then rewrites one acceptance and one fill
 * object; the receiver records copies) and one command object rewritten for every order (the venue copies it).
 */
async function makeSimulatedHarness(recorder: EventRecorder, options: HarnessOptions, reuse = false): Promise<ExecutionVenueHarness> {
  const instrument = testInstrument();
  const portfolio = new Portfolio([instrument], 100_000);
  portfolio.mark[0] = 100;
  const clock = new TestClock(Date.UTC(2024, 0, 1));
  const client = new SimulatedExecutionClient({ instruments: [instrument], leverage: 10 }, portfolio, clock, {
    fees: new InstrumentFeeModel(),
    slippage: new FixedBpsSlippage(0),
    ...(options.participation !== undefined ? { fill: new VolumeParticipationFillModel(options.participation) } : {}),
  });
  const events = recorder;
  const copy = <T extends object>(e: T): T => (reuse ? { ...e } : e);
  client.connect({
    keepsNoEvents: reuse,
    onOrderAccepted: (e) => events.onOrderAccepted(copy(e)),
    onOrderRejected: (e) => events.onOrderRejected(e),
    onOrderFilled: (f) => {
      portfolio.applyFill(f);
      events.onOrderFilled(copy(f));
    },
    onOrderCanceled: (e) => events.onOrderCanceled(e),
    onOrderCancelRejected: (e) => events.onOrderCancelRejected(e),
    onOrderExpired: (e) => events.onOrderExpired(e),
  });
  let previous = 100;
  const command = blankCommand();
  const sender: ExecutionClient = { connect: () => undefined, submit: (o) => client.submit(copyCommand(o, command)), cancel: (id, i) => client.cancel(id, i) };
  return {
    client: reuse ? sender : client,
    async trade(price, volume = 1e9) {
      clock.advanceTo(clock.now() + 1000);
      client.beginLiquidity(0, volume);
      client.processPrice(0, price, previous, volume, clock.now());
      portfolio.mark[0] = price;
      previous = price;
    },
    async settle() {
      client.processCommands(clock.now());
    },
    position: () => portfolio.quantity[0]!,
  };
}

runExecutionClientContract('SimulatedExecutionClient', makeSimulatedHarness);
runExecutionClientContract('SimulatedExecutionClient, one command and one event object per kind reused (as the kernel drives it)', (recorder, options) => makeSimulatedHarness(recorder, options, true));
