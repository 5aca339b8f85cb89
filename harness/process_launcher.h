// harness/process_launcher.h — `--nproc N`: r1lab starts its own local ranks, so a fresh-machine user
// needs no Python (torchrun does the same job: `torchrun --no-python --nproc-per-node N build/r1lab ...`).
// Each child is this program with the same arguments and the launcher variables set (RANK, LOCAL_RANK,
// WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT a free port). SIGINT and SIGTERM are
// passed on (each rank saves its part of a checkpoint and exits); when one rank fails, the others are
// stopped, so an error on any rank stops every rank.
#pragma once

namespace r1lab::harness {

// True when this process is a rank started by a launcher (ours or torchrun): WORLD_SIZE is set.
bool launched_as_rank();

// Runs `ranks` copies of /proc/self/exe with `argv`; returns the first failure's exit code (128 + signal
// for a signal), else 0.
int run_local_ranks(int ranks, int argc, char** argv);

}  // namespace r1lab::harness
