#include "security/password.h"

#include <argon2.h>

#include "core/crypto.h"
#include "core/error.h"

namespace haip::security {

std::string HashPassword(std::string_view password, const PasswordParams& p) {
  std::string salt = crypto::RandomBytes(16);
  constexpr uint32_t kHashLen = 32;
  size_t encoded_len = argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism,
                                         static_cast<uint32_t>(salt.size()), kHashLen, Argon2_id);
  std::string encoded(encoded_len, '\0');
  int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashLen,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    throw Error(ErrorCode::kInternal, std::string("argon2id failed: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view password, const std::string& encoded_hash) {
  if (encoded_hash.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded_hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void CheckPasswordPolicy(std::string_view password, size_t min_length) {
  // Length counts characters, so Chinese passphrases are measured fairly.
  size_t chars = 0;
  for (unsigned char c : password) chars += (c & 0xC0) != 0x80;
  if (chars < min_length) {
    throw Error(ErrorCode::kUnprocessable,
                "password must be at least " + std::to_string(min_length) + " characters");
  }
  if (password.size() > 1024) throw Error(ErrorCode::kUnprocessable, "password is too long");
  bool all_same = true;
  for (char c : password) all_same = all_same && c == password[0];
  if (all_same) throw Error(ErrorCode::kUnprocessable, "password must not repeat one character");
}

std::string GeneratePassword(size_t length) {
  // No look-alike characters (0/O, 1/l/I), so a printed password can be typed.
  static constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < length) {
    for (unsigned char b : crypto::RandomBytes(length)) {
      if (b >= 256 - 256 % kAlphabet.size()) continue;  // unbiased
      out += kAlphabet[b % kAlphabet.size()];
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace haip::security
