// trainer/checkpoint.h — training checkpoints that are never half-written.
//
// OUT/checkpoints/step-N/ is a Hugging Face model folder (config.json, safetensors, tokenizer: it opens
// in transformers and evaluates with `r1lab eval --backend builtin`) plus the trainer's state:
//   trainer_state.json      step, data cursor, counters, the effective configuration;
//   optimizer.safetensors   AdamW's moments, and the fp32 master weights when the model files are not
//                           fp32 (otherwise the model files are the master weights, bit for bit);
//                           with ZeRO-1, one file per rank (optimizer-RRRRR-of-WWWWW.safetensors), each
//                           with that rank's range of the flat buffer.
// A checkpoint is written as step-N.partial/ and renamed when complete, so a crash or a full disk leaves
// the previous ones intact; a leftover .partial folder is removed on the next start. The newest `keep`
// are kept.
#pragma once

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "trainer/causal_lm.h"
#include "trainer/distributed.h"
#include "trainer/optimizer.h"

namespace r1lab::trainer {

struct CheckpointContents {
  const CausalLM& model;
  at::ScalarType model_dtype;      // of the saved model files
  AdamW& optimizer;                // this rank's part: flat elements [begin, begin + master numel)
  std::int64_t begin = 0;
  bool sharded = false;            // ZeRO-1: every rank writes its own optimizer file
  nlohmann::json state;            // trainer_state.json
};

// Writes checkpoints_dir/step-<step> (every rank calls it; rank 0 writes the model and the state), then
// removes all but the newest `keep`. Throws naming the folder on a failed write on any rank (nothing of
// the new checkpoint is left; older ones are untouched).
std::filesystem::path save_checkpoint(const std::filesystem::path& checkpoints_dir, std::int64_t step,
                                      const CheckpointContents& contents, std::int64_t keep, ProcessGroup& group);

// The newest complete checkpoint; removes leftovers of an interrupted save.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& checkpoints_dir);
// The same without removing anything (for ranks other than 0, and for error messages).
std::optional<std::filesystem::path> latest_checkpoint_readonly(const std::filesystem::path& checkpoints_dir);

// Restores this rank's optimizer part (moments, master weights, step count) from a checkpoint; returns
// its trainer_state.json. A checkpoint sharded over another number of ranks is an error that says how
// many to use. The caller copies the master weights into the model.
nlohmann::json load_checkpoint(const std::filesystem::path& checkpoint, AdamW& optimizer, std::int64_t begin, bool sharded,
                               const ParameterTable& table, const ProcessGroup& group);

// Writes the model as a Hugging Face folder under a temporary name and renames it to `dir`.
void save_model_folder(const std::filesystem::path& dir, const CausalLM& model, at::ScalarType dtype);

}  // namespace r1lab::trainer
