#ifndef LRJ_OPENVINO_H
#define LRJ_OPENVINO_H

// A thin C interface over OpenVINO's C API (libopenvino_c), loaded at run time with dlopen from a
// folder given by the caller: lrj links no OpenVINO library, and runs without one. Only what
// running one ONNX network on the CPU needs is bound. No exception or signal crosses this
// interface: failures return a status and a message.
//
// One network owns one compiled model and one inference request per input shape. A network is
// not safe to use from two threads at once; make one per thread.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Loads libopenvino_c from `folder` (the `openvino/libs` folder of the PyPI wheel) once per
/// process. Returns 1 when the runtime is usable, 0 with a message in `error` otherwise. Later
/// calls return the first outcome (a process uses one runtime).
int32_t lrj_openvino_load(const char *folder, char *error, size_t error_size);

/// The loaded runtime's version, e.g. "2026.4.1-…" (empty before a successful load).
const char *lrj_openvino_version(void);

/// The precision the loaded runtime's CPU plugin infers in, e.g. "bf16" or "f32": its default, or f32
/// when the environment variable LRJ_OPENVINO_PRECISION is "f32" (any other value fails the load).
/// Empty before a successful load or when the plugin does not say.
const char *lrj_openvino_precision(void);

/// An opaque network.
typedef struct lrj_openvino_network lrj_openvino_network;

/// Reads an ONNX network from the `model_size` bytes at `model` (copied) for the CPU with
/// `threads` inference threads (0: OpenVINO's choice). Returns NULL with a message on failure.
lrj_openvino_network *lrj_openvino_open(const void *model, size_t model_size, int32_t threads, char *error,
                                        size_t error_size);

/// Frees a network (NULL is accepted).
void lrj_openvino_close(lrj_openvino_network *network);

/// Runs the network on a planar float input of shape 1x3x`height`x`width` (the model is reshaped
/// and compiled for each new shape, then kept) and copies at most `capacity` floats of its first
/// output to `out`. Returns the number of floats of the output (which may exceed `capacity`:
/// then nothing is copied), or -1 with a message on failure.
int64_t lrj_openvino_forward(lrj_openvino_network *network, const float *input, int32_t width, int32_t height,
                             float *out, int64_t capacity, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
