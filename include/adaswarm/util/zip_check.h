// Integrity check of a zip archive (the container of LibTorch's torch::save /
// OutputArchive files, hence of adaswarm checkpoints) before LibTorch reads it.
//
// LibTorch 1.13 reads zip records without checking their CRC-32 (its miniz is
// built with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS), and some corrupted files
// crash it (a SEGV in the TorchScript type parser, found by fuzz/fuzz_checkpoint;
// docs/hardening.md). verify_zip_file walks the central directory and checks
// every record against its CRC-32 and sizes, so a corrupted or truncated file
// is refused with a message naming it instead. It cannot stop a file crafted
// with correct CRCs.
#pragma once
#include <string>

namespace adaswarm::util {

/// Throws std::runtime_error "PATH: corrupt or not a zip archive (REASON)" when
/// `path` cannot be read, is not a zip archive (zip64 included), or a record's
/// data is out of the file, uses a method other than stored / deflate, or
/// disagrees with its CRC-32 or sizes.
void verify_zip_file(const std::string& path);
/// The same on bytes already read; `name` stands for the file in messages.
void verify_zip_bytes(const std::string& bytes, const std::string& name);

}  // namespace adaswarm::util
