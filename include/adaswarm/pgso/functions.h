// Benchmark functions of SPEC.md section 7 (the PGSO paper's suite).
//
// Torch-free: every function is evaluated batched over particles on a row-major
// [P x D] buffer of doubles, writing P values (the swarm engine's fitness shape).
// Rotated versions evaluate f(R x) with a fixed orthogonal R drawn from a seed;
// shifted-rotated versions f(R (x - o)) with a fixed shift o drawn from the same
// seed (the reference code redraws o at every call; here it never changes).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace adaswarm::pgso {

enum class Transform { None, Rotated, ShiftedRotated };

/// Batched kernel: X is [P x D] row-major, out gets P values.
using Kernel = void (*)(const double* X, int64_t P, int64_t D, double* out);

/// A benchmark function at a fixed dimension, with its bounds, minimum and minimiser.
class Function {
 public:
  /// `name`: a base name (see base_names()), or "rotated_<base>", or
  /// "shifted_rotated_<base>". The rotation and shift are drawn from
  /// (instance_seed, base name, dim), so they are fixed for a given triple.
  /// Throws std::invalid_argument naming the function for unknown names, dim < 1,
  /// dim > kMaxDim, or (rotated forms, which hold a dim x dim matrix) dim > kMaxRotatedDim.
  Function(const std::string& name, int64_t dim, uint64_t instance_seed = 20210501);
  static constexpr int64_t kMaxDim = int64_t{1} << 20;
  static constexpr int64_t kMaxRotatedDim = 8192;  // a 512 MiB rotation matrix

  /// Batched evaluation; D must equal dim() (throws otherwise).
  void evaluate(const double* X, int64_t P, int64_t D, double* out) const;
  /// One point (dim() values).
  double operator()(const double* x) const;
  double operator()(const std::vector<double>& x) const {
    if (static_cast<int64_t>(x.size()) != dim_)
      throw std::invalid_argument("benchmark function '" + name_ + "': a point of " + std::to_string(x.size()) +
                                  " coordinates, the dimension is " + std::to_string(dim_));
    return (*this)(x.data());
  }

  const std::string& name() const { return name_; }
  const std::string& base() const { return base_; }
  Transform transform() const { return transform_; }
  int64_t dim() const { return dim_; }
  /// Search bounds (the PGSO paper's), the same for every coordinate.
  double lower() const { return lower_; }
  double upper() const { return upper_; }
  /// Known minimum value (0 except exponential: -1).
  double minimum() const { return minimum_; }
  /// A point where minimum() is attained.
  std::vector<double> minimiser() const;
  bool unimodal() const { return unimodal_; }
  /// D x D row-major orthogonal matrix (empty when not rotated).
  const std::vector<double>& rotation() const { return rotation_; }
  /// Shift o (empty when not shifted).
  const std::vector<double>& shift() const { return shift_; }

  /// The 12 base functions.
  static std::vector<std::string> base_names();
  /// The default bench suite: the base functions plus the rotated and
  /// shifted-rotated ones of the paper's convergence figures.
  static std::vector<std::string> paper_suite();

 private:
  std::string name_, base_;
  Transform transform_ = Transform::None;
  int64_t dim_ = 0;
  double lower_ = 0, upper_ = 0, minimum_ = 0;
  bool unimodal_ = false;
  Kernel kernel_ = nullptr;
  std::vector<double> rotation_, shift_;
};

/// A D x D orthogonal matrix (row-major) from a seed: modified Gram-Schmidt on a
/// Gaussian matrix, so it is Haar-distributed up to column signs.
std::vector<double> random_orthogonal(int64_t dim, uint64_t seed);

/// The base kernels (batched, untransformed), exposed for benchmarks.
namespace kernels {
void sphere(const double* X, int64_t P, int64_t D, double* out);
void sum_squares(const double* X, int64_t P, int64_t D, double* out);
void schwefel_2_20(const double* X, int64_t P, int64_t D, double* out);
void schwefel_2_22(const double* X, int64_t P, int64_t D, double* out);
void powell_sum(const double* X, int64_t P, int64_t D, double* out);
void exponential(const double* X, int64_t P, int64_t D, double* out);
void zakharov(const double* X, int64_t P, int64_t D, double* out);
void griewank(const double* X, int64_t P, int64_t D, double* out);
void rastrigin(const double* X, int64_t P, int64_t D, double* out);
void noncontinuous_rastrigin(const double* X, int64_t P, int64_t D, double* out);
void ackley(const double* X, int64_t P, int64_t D, double* out);
void rosenbrock(const double* X, int64_t P, int64_t D, double* out);
}  // namespace kernels

}  // namespace adaswarm::pgso
