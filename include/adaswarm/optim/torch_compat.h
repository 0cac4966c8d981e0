// What differs between the LibTorch versions adaswarm builds against (Debian's
// 1.13 and the 2.x of PyTorch's wheels), where our optimizers touch it. One
// source builds against both; the 1.13 build is unchanged by it (same keys,
// same files, bit-identical steps).
//
// - The optimizer state map: keyed by a string of the parameter's TensorImpl
//   address up to LibTorch 2.1, by the address itself (void*) from 2.2 on. The
//   key type is read off torch::optim::Optimizer::state() itself, so the code
//   follows whichever map the headers declare, whatever the version number says.
// - zero_grad(): LibTorch 2.x defaults to set_to_none = true, so after it a
//   parameter's grad() is undefined until backward() runs; every step of ours
//   skips parameters without a gradient (as LibTorch's own optimizers do).
// - c10::optional became an alias of std::optional; adaswarm uses std::optional.
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/version.h>

#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

/// True when the LibTorch being compiled against is at least major.minor.
#define ADASWARM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace adaswarm::optim {

/// The optimizer state map of this LibTorch and its key type.
using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
using StateKey = typename StateMap::key_type;
static_assert(std::is_same_v<StateKey, std::string> || std::is_same_v<StateKey, void*>,
              "unknown LibTorch optimizer state key type: adaswarm knows std::string (<= 2.1) and void* (>= 2.2)");
#if !ADASWARM_TORCH_AT_LEAST(2, 0)
static_assert(std::is_same_v<StateKey, std::string>, "LibTorch 1.x keys its optimizer state by string");
#endif

namespace detail {
// The two key forms; overload resolution on the key type picks one, and both
// compile on every version.
inline std::string make_state_key(c10::TensorImpl* impl, const std::string*) {
  std::ostringstream os;  // the form c10::guts::to_string gave in LibTorch 1.x
  os << static_cast<const void*>(impl);
  return os.str();
}
inline void* make_state_key(c10::TensorImpl* impl, void* const*) { return impl; }
}  // namespace detail

/// The key under which an optimizer of this LibTorch keeps `param`'s state.
inline StateKey state_key(const at::Tensor& param) {
  return detail::make_state_key(param.unsafeGetTensorImpl(), static_cast<const StateKey*>(nullptr));
}

}  // namespace adaswarm::optim
