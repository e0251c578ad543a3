// Random streams. Each independent part of a computation (the global draws, user u, seed s)
// gets its own generator, derived from (seed, stream) by SplitMix64, so results never depend
// on the order or the threads in which the parts run.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace linsim {

// SplitMix64 finaliser: a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna): a small, fast generator satisfying
// UniformRandomBitGenerator, seeded from (seed, stream).
class Rng {
 public:
  using result_type = std::uint64_t;
  Rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t z = mix64(seed) ^ mix64(stream + 0x632be59bd9b4e019ULL);
    for (auto& word : s_) word = z = mix64(z);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform on (0, 1]: never 0, so logarithms and negative powers are safe.
  double uniform_open0() { return (static_cast<double>((*this)() >> 11) + 1.0) * 0x1.0p-53; }
  // Standard normal by Box–Muller (the cosine branch; two uniforms per draw).
  double normal() {
    const double u = uniform_open0(), v = uniform_open0();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace linsim
