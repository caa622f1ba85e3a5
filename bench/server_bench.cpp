// SPDX-License-Identifier: AGPL-3.0-or-later
// The server's hot path, each Parley benchmark next to the closest honest baseline doing the same
// job in the same process (ratios in bench/README.md):
//
//   Parley_DecodeRequest/N vs Protobuf_ParseFrame/N (N = 1, 16)
//       proto::decode_request() of a SendMessage frame with N copies of a 300-byte ciphertext
//       (size, parse, version, kind, per-field checks) vs a bare wire::Frame::ParseFromArray
//   Parley_EncodePush vs Protobuf_SerializePush
//       a delivery push built from a StoredEnvelope and encoded the server's way (push_frame +
//       encode_shared) vs filling a wire::Frame in place and SerializeToString
//   Store_AppendAck vs RocksDb_PutDelete (also _Threads: 8 at once, group commit)
//       RocksDbStore (synced, as in production) append_messages of one 300-byte message with a
//       dedupe key, then its ack (delete_message) vs raw RocksDB: a synced WriteBatch put of the
//       same bytes, then a synced delete
//   Store_FanOutShared/K vs Store_FanOutCopies/K (K = 10, 100, 1000)
//       one 300-byte group message stored for K devices by reference
//       (AppendRequest::shared_payload) vs K full copies, same store
//   Paired_AppendAck_vs_RocksDb, Paired_FanOutShared_vs_Copies/K
//       the two disk-bound pairs again, both sides alternating in ONE loop and timed separately
//       (counters parley_us, peer_us, ratio; the same in CPU time): robust to a shared disk whose
//       fsync latency swings from run to run
//   Core_SendGroup/K vs MemoryStore_AppendShared/K
//       ServerCore (MemoryStore, inline) answering a SendGroupMessage frame for K devices vs the
//       MemoryStore append it ends in
//
// Every benchmark checks its result (a wrong Status ends it with SkipWithError), so a broken path
// cannot report a fast number. Data are random bytes from libsodium. RocksDB directories are
// fresh per run under $TMPDIR (default /tmp; use a real disk: fsync is the point).
//
// This file registers every benchmark, in pairs and in one fixed order; they are defined by job in
// frame_bench.cpp (frames), store_bench.cpp (append + ack, threads, paired), fanout_bench.cpp
// (fan-out, paired, ServerCore) on the shared setup in server_bench_support.h.
#include "server_bench.h"

#include <benchmark/benchmark.h>

namespace parley::bench {

// Registered in pairs, Parley first; each pair's rows sit next to each other in the output.
BENCHMARK(BM_Parley_DecodeRequest)->Arg(1)->Arg(16);
BENCHMARK(BM_Protobuf_ParseFrame)->Arg(1)->Arg(16);
BENCHMARK(BM_Parley_EncodePush);
BENCHMARK(BM_Protobuf_SerializePush);

// fsync is wall time: real time decides the iteration count and is the number to read.
BENCHMARK(BM_Store_AppendAck)->UseRealTime();
BENCHMARK(BM_RocksDb_PutDelete)->UseRealTime();
BENCHMARK(BM_Store_AppendAck_Threads)->Threads(kThreads)->UseRealTime();
BENCHMARK(BM_RocksDb_PutDelete_Threads)->Threads(kThreads)->UseRealTime();

BENCHMARK(BM_Store_FanOutShared)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_Store_FanOutCopies)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

BENCHMARK(BM_Paired_AppendAck_vs_RocksDb)->UseRealTime();
BENCHMARK(BM_Paired_FanOutShared_vs_Copies)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

BENCHMARK(BM_Core_SendGroup)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_MemoryStore_AppendShared)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace parley::bench

BENCHMARK_MAIN();
