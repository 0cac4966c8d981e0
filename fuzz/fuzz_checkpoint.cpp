// libFuzzer target: `adaswarm train --resume`'s checkpoint reader. Each input
// is written as CHECKPOINT_DIR/checkpoint.pt and a Trainer is made with
// resume = true (a 2-unit MLP on a tiny MNIST-format set written at start-up,
// optimizer AdaSwarm, so the optimizer's and swarm loss's own load run too).
// Documented errors: a std::exception. With ADASWARM_FUZZ_STRICT=1 its message
// must also name the checkpoint file (the project's rule for bad input).
//
// Each input first goes through util::verify_zip_file (the zip's CRC-32s and
// sizes), which the checkpoint reader is to call before LibTorch reads the file:
// LibTorch 1.13 does not check CRCs and crashes on some corrupted files (a SEGV
// in its TorchScript type parser; docs/hardening.md). ADASWARM_FUZZ_RAW=1 skips
// that check (and finds LibTorch's crash within minutes).
//
// ADASWARM_FUZZ_SEED_DIR=DIR: write a valid checkpoint of this set-up to
// DIR/checkpoint.pt (a seed for the corpus) and exit.
//
// Built as fuzz_checkpoint_records (ADASWARM_FUZZ_RECORDS): the zip records
// carry CRC-32s, so raw mutations mostly stop at verify_zip_file. This
// variant starts from a valid checkpoint made at start-up and replaces one of
// its records (not the TorchScript code/ ones): input byte 0 picks the record,
// the rest is its new content; the zip is rebuilt with correct CRCs, so the
// mutated pickle (data.pkl) and tensor data pass verify_zip_file and reach the
// unpickler and our code.
// ADASWARM_FUZZ_SEED_DIR writes one seed per record there.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <caffe2/serialize/inline_container.h>

#include "adaswarm/experiments/trainer.h"
#include "adaswarm/util/zip_check.h"
#include "fuzz_common.h"

namespace ex = adaswarm::experiments;
namespace fs = std::filesystem;

namespace {

void write_idx(const std::string& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& body) {
  std::ofstream f(path, std::ios::binary);
  const uint8_t magic[4] = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  f.write(reinterpret_cast<const char*>(magic), 4);
  for (uint32_t d : dims) {
    const uint8_t be[4] = {uint8_t(d >> 24), uint8_t(d >> 16), uint8_t(d >> 8), uint8_t(d)};
    f.write(reinterpret_cast<const char*>(be), 4);
  }
  f.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

ex::TrainConfig config;
bool strict = false;
bool raw = false;
#ifdef ADASWARM_FUZZ_RECORDS
std::vector<std::pair<std::string, std::string>> records;  // name, content of the valid checkpoint
std::vector<size_t> mutable_records;                         // indices of those a seed may replace (not code/)
#endif

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string root = adaswarm::fuzz::scratch_dir();
  const std::string data = root + "/mnist", ckpt = root + "/ckpt";
  fs::create_directories(data);
  fs::create_directories(ckpt);
  const uint32_t n = 8, side = 4;
  std::vector<uint8_t> pixels(n * side * side), labels(n);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  for (const char* split : {"train", "t10k"}) {
    write_idx(data + "/" + split + "-images-idx3-ubyte", {n, side, side}, pixels);
    write_idx(data + "/" + split + "-labels-idx1-ubyte", {n}, labels);
  }
  config.model = "mlp";
  config.mlp_hidden = 2;
  config.dataset = "mnist";
  config.data_dir = data;
  config.optimizer = "adaswarm";
  config.epochs = 1;
  config.batch_size = 4;
  config.eval_batch_size = 8;
  config.threads = 1;
  config.seed = 3;
  config.progress = false;
  config.handle_sigint = false;
  config.checkpoint_dir = ckpt;
  strict = std::getenv("ADASWARM_FUZZ_STRICT") && std::string(std::getenv("ADASWARM_FUZZ_STRICT")) == "1";
  raw = std::getenv("ADASWARM_FUZZ_RAW") && std::string(std::getenv("ADASWARM_FUZZ_RAW")) == "1";
  const char* seed_dir = std::getenv("ADASWARM_FUZZ_SEED_DIR");
#ifdef ADASWARM_FUZZ_RECORDS
  const bool make_base = true;
#else
  const bool make_base = seed_dir != nullptr;
#endif
  if (make_base) {
    ex::TrainConfig c = config;
    c.overwrite = true;
    std::ostringstream sink;
    ex::Trainer(c, &sink, &sink).run();
  }
#ifdef ADASWARM_FUZZ_RECORDS
  {
    caffe2::serialize::PyTorchStreamReader reader(ckpt + "/checkpoint.pt");
    for (const auto& name : reader.getAllRecords()) {
      auto [ptr, size] = reader.getRecord(name);
      if (name.rfind("code/", 0) != 0 && name.find("/code/") == std::string::npos)
        mutable_records.push_back(records.size());
      records.emplace_back(name, std::string(static_cast<const char*>(ptr.get()), size));
    }
  }
  if (seed_dir) {
    fs::create_directories(seed_dir);
    for (size_t k = 0; k < mutable_records.size(); ++k) {
      const auto& rec = records[mutable_records[k]];
      std::ofstream f(fs::path(seed_dir) / ("record" + std::to_string(k)), std::ios::binary);
      f.put(static_cast<char>(k));
      f << rec.second;
      std::cout << "seed record" << k << ": " << rec.first << " (" << rec.second.size() << " bytes)\n";
    }
    std::exit(0);
  }
#else
  if (seed_dir) {
    fs::create_directories(seed_dir);
    fs::copy_file(ckpt + "/checkpoint.pt", fs::path(seed_dir) / "checkpoint.pt", fs::copy_options::overwrite_existing);
    std::cout << "wrote " << (fs::path(seed_dir) / "checkpoint.pt").string() << std::endl;
    std::exit(0);
  }
#endif
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#ifdef ADASWARM_FUZZ_RECORDS
  if (size < 1 || mutable_records.empty()) return 0;
  const std::string path = adaswarm::fuzz::scratch_dir() + "/ckpt/checkpoint.pt";
  {
    const size_t pick = mutable_records[data[0] % mutable_records.size()];
    caffe2::serialize::PyTorchStreamWriter writer(path);
    for (size_t i = 0; i < records.size(); ++i) {
      if (i == pick)
        writer.writeRecord(records[i].first, data + 1, size - 1);
      else
        writer.writeRecord(records[i].first, records[i].second.data(), records[i].second.size());
    }
    writer.writeEndOfFile();
  }
#else
  const std::string path = adaswarm::fuzz::write_input("ckpt/checkpoint.pt", data, size);
#endif
  ex::TrainConfig c = config;
  c.resume = true;
  std::ostringstream sink;
  try {
    if (!raw) adaswarm::util::verify_zip_file(path);
    ex::Trainer trainer(c, &sink, &sink);
  } catch (const std::exception& e) {
    if (strict && std::string(e.what()).find(path) == std::string::npos) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  return 0;
}
