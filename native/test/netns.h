// A private network namespace for tests that make kernel interfaces (root only): nothing on
// the host sees them, and they go with the namespace.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

namespace netns {

// Moves the calling thread into a new network namespace for its lifetime, then back; the
// namespace disappears with the last interface or socket in it.
class Private {
 public:
  Private() : saved_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    entered_ = saved_ >= 0 && unshare(CLONE_NEWNET) == 0;
  }
  ~Private() {
    if (entered_) setns(saved_, CLONE_NEWNET);
    if (saved_ >= 0) close(saved_);
  }
  Private(const Private&) = delete;
  Private& operator=(const Private&) = delete;
  bool entered() const { return entered_; }

 private:
  int saved_;
  bool entered_ = false;
};

}  // namespace netns
