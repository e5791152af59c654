package io.herald.replay;

import io.herald.common.replay.ReplayStore;

/**
 * The {@link ReplayStore} contract, backend-neutral: a subclass per backend supplies
 * {@link #createStore} and inherits every test of {@link ReplayStoreContract}. Each test works on
 * topics of its own (a random prefix), so a backend that keeps data between runs (Redis,
 * PostgreSQL) needs no cleanup. Store calls run on a Vert.x event-loop context, as in the replay
 * verticle; the test thread only waits for their futures.
 *
 * <p>Time is a fake clock that tests move with {@link #advance}: every backend reads event ages by
 * the clock it is given. Nothing here is skipped: a promise only some backends make (the in-heap
 * byte budget) is a contract of its own ({@link ByteBudgetContractTest}) that only they run.
 *
 * <p>The fixture (stores, clock, context, helpers) is {@link ReplayStoreFixture}; the tests are in
 * one interface per concern, gathered by {@link ReplayStoreContract}.
 */
public abstract class ReplayStoreContractTest extends ReplayStoreFixture implements ReplayStoreContract {
}
