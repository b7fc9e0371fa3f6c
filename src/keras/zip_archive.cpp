#include <algorithm>
#include "zip_archive.hpp"

#include <zip.h>

#include "keras_error.hpp"

namespace typenet::keras_detail {

void ZipArchive::Close::operator()(zip* archive) const { zip_discard(archive); }

ZipArchive::ZipArchive(std::span<const std::byte> image, std::string source)
    : source_(std::move(source)) {
  zip_error_t error;
  zip_error_init(&error);
  // The buffer source reads `image` in place (freep = 0: it is not libzip's to free).
  if (zip_source_t* bytes = zip_source_buffer_create(image.data(), image.size(), 0, &error)) {
    archive_.reset(zip_open_from_source(bytes, ZIP_RDONLY | ZIP_CHECKCONS, &error));
    if (!archive_) zip_source_free(bytes);  // an open archive owns its source
  }
  const std::string reason = archive_ ? "" : zip_error_strerror(&error);
  zip_error_fini(&error);
  if (!archive_)
    fail(KerasProblem::Corrupted, source_,
         "has a zip signature but is not a readable zip archive (" + reason + ")");
}

bool ZipArchive::contains(const std::string& entry) const {
  return zip_name_locate(archive_.get(), entry.c_str(), 0) >= 0;
}

std::vector<std::byte> ZipArchive::read(const std::string& entry, std::uint64_t max_bytes) const {
  const zip_int64_t index = zip_name_locate(archive_.get(), entry.c_str(), 0);
  if (index < 0)
    fail(KerasProblem::NotKerasFile, source_,
         "expected a Keras archive with an entry '" + entry + "', there is none");
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive_.get(), static_cast<zip_uint64_t>(index), 0, &stat) < 0 ||
      !(stat.valid & ZIP_STAT_SIZE))
    fail(KerasProblem::Corrupted, source_,
         "cannot read the size of entry '" + entry + "' (" + zip_strerror(archive_.get()) + ")");
  if (stat.size > max_bytes)
    fail(KerasProblem::TooLarge, source_,
         "entry '" + entry + "' is " + std::to_string(stat.size) + " bytes, over the limit of " +
             std::to_string(max_bytes));
  // Deflate expands at most 1032:1, so a larger declared size is a lie: refuse it before
  // allocating what it claims.
  constexpr zip_uint64_t max_deflate_ratio = 1032;
  if ((stat.valid & ZIP_STAT_COMP_SIZE) &&
      stat.size > std::max<zip_uint64_t>(stat.comp_size, 1) * max_deflate_ratio)
    fail(KerasProblem::Corrupted, source_,
         "entry '" + entry + "' declares " + std::to_string(stat.size) + " bytes from " +
             std::to_string(stat.comp_size) + " compressed ones, more than deflate can expand to");

  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(
      zip_fopen_index(archive_.get(), static_cast<zip_uint64_t>(index), 0), zip_fclose);
  if (!file)
    fail(KerasProblem::Corrupted, source_,
         "cannot open entry '" + entry + "' (" + zip_strerror(archive_.get()) + ")");
  std::vector<std::byte> bytes(stat.size);
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const zip_int64_t got = zip_fread(file.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0)
      fail(KerasProblem::Corrupted, source_,
           "cannot read entry '" + entry + "' (" + zip_file_strerror(file.get()) + ")");
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  // One more read past the declared size: libzip checks the CRC-32 when it reaches the end.
  std::byte extra;
  const zip_int64_t past_end = zip_fread(file.get(), &extra, 1);
  if (filled != bytes.size() || past_end != 0)
    fail(KerasProblem::Corrupted, source_,
         "entry '" + entry + "' does not hold the " + std::to_string(stat.size) +
             " bytes it declares" +
             (past_end < 0 ? std::string(" (") + zip_file_strerror(file.get()) + ")" : ""));
  return bytes;
}

}  // namespace typenet::keras_detail
