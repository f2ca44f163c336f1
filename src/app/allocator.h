// Process-wide allocator settings of the daemon.
#pragma once

namespace hdm {

// Fixes glibc's mmap threshold at 256 KiB. By default glibc raises the threshold to the size of
// the largest block freed (up to 32 MiB): after the first /metrics render (about 9 MB at 10,000
// connections) every later render would come from the heap of whichever HTTP thread served it
// and stay resident there, about 20 MB more per server thread. With the threshold fixed, large
// buffers are mapped and unmapped, and resident memory returns after each scrape. Call once at
// start, before threads. Does nothing when MALLOC_MMAP_THRESHOLD_ is set in the environment.
void ConfigureAllocator();

}  // namespace hdm
