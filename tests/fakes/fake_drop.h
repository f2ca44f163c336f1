// Dropping a connection without answering, for ScriptedResponse::drop.
#pragma once

namespace hdm::fake::internal {

// Shuts down (both directions) the socket of this process whose local and peer ports are the
// given ones: the TCP connection a request arrived on, which httplib does not hand to handlers.
// Call it from the handler of that request: the port pair is unique among open sockets and the
// socket stays open while its handler runs. httplib's write of the response then fails (its
// Server ignores SIGPIPE) and it closes the socket, so the client sees the connection close
// before any answer. Works for TLS connections too. Does nothing when no socket matches.
void DropConnection(int local_port, int remote_port);

}  // namespace hdm::fake::internal
