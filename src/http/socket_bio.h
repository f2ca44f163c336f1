// A BIO for OpenSSL over a connected socket that never raises SIGPIPE.
//
// OpenSSL's own socket BIO writes with write(2): a TLS alert or close_notify sent to a client
// that has gone away would kill a process that has not ignored SIGPIPE. This one writes with
// send(MSG_NOSIGNAL), so the server is safe to embed (tests, tools) whatever the signal
// dispositions. The BIO does not own the socket.
#pragma once

#include <openssl/bio.h>

namespace hdm {

// A new BIO on `fd` (null when OpenSSL is out of memory); give it to SSL_set_bio.
BIO* NewNoSigpipeSocketBio(int fd);

}  // namespace hdm
