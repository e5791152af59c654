package io.herald.replay;

import io.herald.common.replay.ReplayStore;

/**
 * Every test of the {@link ReplayStore} contract, one interface per concern:
 * {@link ReplayStorePositionContract}, {@link ReplayStoreReadContract},
 * {@link ReplayStoreRetentionContract}, {@link ReplayStoreIdempotencyContract},
 * {@link ReplayStoreLogContract} and {@link ReplayStoreKeyContract}. A {@link ReplayStoreFixture}
 * that implements it runs them all ({@link ReplayStoreContractTest}).
 */
interface ReplayStoreContract extends ReplayStorePositionContract, ReplayStoreReadContract, ReplayStoreRetentionContract,
  ReplayStoreIdempotencyContract, ReplayStoreLogContract, ReplayStoreKeyContract {
}
