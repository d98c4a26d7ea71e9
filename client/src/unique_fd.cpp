#include "seisvault/client/unique_fd.h"

#include <unistd.h>

namespace seisvault::client {

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

}  // namespace seisvault::client
