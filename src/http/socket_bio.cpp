#include "http/socket_bio.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace hdm {
namespace {

int FdOf(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

bool Retryable(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int Write(BIO* b, const char* data, int length) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(FdOf(b), data, static_cast<size_t>(length), MSG_NOSIGNAL);
  if (n < 0 && Retryable(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int Read(BIO* b, char* data, int length) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(FdOf(b), data, static_cast<size_t>(length), 0);
  if (n < 0 && Retryable(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

int Puts(BIO* b, const char* text) {
  int length = 0;
  while (text[length] != '\0') ++length;
  return Write(b, text, length);
}

long Ctrl(BIO* b, int cmd, long, void* ptr) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_C_GET_FD:
      if (ptr != nullptr) *static_cast<int*>(ptr) = FdOf(b);
      return FdOf(b);
    default:
      return 0;
  }
}

BIO_METHOD* Method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "hdm socket without SIGPIPE");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, Write);
    BIO_meth_set_read(m, Read);
    BIO_meth_set_puts(m, Puts);
    BIO_meth_set_ctrl(m, Ctrl);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewNoSigpipeSocketBio(int fd) {
  BIO_METHOD* method = Method();
  if (method == nullptr) return nullptr;
  BIO* b = BIO_new(method);
  if (b == nullptr) return nullptr;
  BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(b, 1);
  return b;
}

}  // namespace hdm
