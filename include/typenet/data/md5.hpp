// MD5 digests, to check downloaded data sets against their published checksums. MD5 is no
// protection against tampering; it catches damaged, truncated and wrong files, which is what the
// published MNIST checksums are for. Computed by OpenSSL (fast, and well tested against RFC 1321).
#pragma once

#include <cstdint>
#include <span>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace typenet {

// Incremental MD5, for data that arrives in pieces (an IDX header, then its values).
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  Md5& update(std::span<const std::uint8_t> bytes);
  // The digest as 32 lower-case hex digits; the object can not be updated afterwards.
  std::string hex_digest();

 private:
  evp_md_ctx_st* context_;
  bool finished_ = false;
};

std::string md5_hex(std::span<const std::uint8_t> bytes);

}  // namespace typenet
