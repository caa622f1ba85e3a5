// SPDX-License-Identifier: AGPL-3.0-or-later
// The benchmarks of parley_server_bench, declared by the file that defines them, so that
// server_bench.cpp can register them all in one place and in a fixed order (registration order is
// output order; BENCHMARK() in several files would leave it to static initialisation order).
#pragma once

#include <benchmark/benchmark.h>

namespace parley::bench {

// frame_bench.cpp
void BM_Parley_DecodeRequest(benchmark::State& state);
void BM_Protobuf_ParseFrame(benchmark::State& state);
void BM_Parley_EncodePush(benchmark::State& state);
void BM_Protobuf_SerializePush(benchmark::State& state);

// store_bench.cpp
constexpr int kThreads = 8;  // threads of the _Threads variants
void BM_Store_AppendAck(benchmark::State& state);
void BM_RocksDb_PutDelete(benchmark::State& state);
void BM_Store_AppendAck_Threads(benchmark::State& state);
void BM_RocksDb_PutDelete_Threads(benchmark::State& state);
void BM_Paired_AppendAck_vs_RocksDb(benchmark::State& state);

// fanout_bench.cpp
void BM_Store_FanOutShared(benchmark::State& state);
void BM_Store_FanOutCopies(benchmark::State& state);
void BM_Paired_FanOutShared_vs_Copies(benchmark::State& state);
void BM_Core_SendGroup(benchmark::State& state);
void BM_MemoryStore_AppendShared(benchmark::State& state);

}  // namespace parley::bench
