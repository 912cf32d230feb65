// Password hashing with argon2id (libargon2), in the PHC string format so the
// parameters travel with each hash and can be raised without a migration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace haip::security {

struct PasswordParams {
  uint32_t memory_kib = 19456;  // OWASP's argon2id baseline (19 MiB, 2 passes)
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

std::string HashPassword(std::string_view password, const PasswordParams& params);
// False for a wrong password or a malformed hash; never throws for bad input.
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

// Strength rules for new passwords: length, not all one character class.
// Throws Error(kUnprocessable) saying what is wrong.
void CheckPasswordPolicy(std::string_view password, size_t min_length);

// A random password of readable characters, for bootstrap and resets.
std::string GeneratePassword(size_t length = 20);

}  // namespace haip::security
