#include "typenet/data/md5.hpp"

#include <openssl/evp.h>

#include "typenet/data/data_error.hpp"

namespace typenet {

Md5::Md5() : context_(EVP_MD_CTX_new()) {
  // EVP_md5 fails in a FIPS-only OpenSSL configuration, where MD5 is not offered.
  if (context_ == nullptr || EVP_DigestInit_ex(context_, EVP_md5(), nullptr) != 1) {
    EVP_MD_CTX_free(context_);
    throw DataError("MD5: OpenSSL could not start an MD5 digest (is MD5 disabled, FIPS mode?)");
  }
}

Md5::~Md5() { EVP_MD_CTX_free(context_); }

Md5& Md5::update(std::span<const std::uint8_t> bytes) {
  if (finished_) throw DataError("MD5: update() after hex_digest()");
  if (EVP_DigestUpdate(context_, bytes.data(), bytes.size()) != 1) {
    throw DataError("MD5: OpenSSL digest update failed");
  }
  return *this;
}

std::string Md5::hex_digest() {
  if (finished_) throw DataError("MD5: hex_digest() called twice");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_, digest, &length) != 1) {
    throw DataError("MD5: OpenSSL digest finalisation failed");
  }
  finished_ = true;
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0xf];
  }
  return hex;
}

std::string md5_hex(std::span<const std::uint8_t> bytes) {
  return Md5().update(bytes).hex_digest();
}

}  // namespace typenet
