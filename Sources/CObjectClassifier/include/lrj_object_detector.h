#ifndef LRJ_OBJECT_DETECTOR_H
#define LRJ_OBJECT_DETECTOR_H

// A thin C interface over OpenCV's DNN module running a YOLOX-nano network (ONNX, COCO classes)
// on small pictures: the crops lrj cuts around tracked objects. Only whole-object class boxes
// come out. No C++ exception crosses this interface: failures return a status and a message.
//
// One detector owns one network. A detector is not safe to use from two threads at once; make
// one per thread.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An opaque detector (one loaded network).
typedef struct lrj_detector lrj_detector;

/// One detection, in the pixels of the picture given to `lrj_detector_run`.
typedef struct lrj_detection {
  float x;       ///< left
  float y;       ///< top
  float width;
  float height;
  float score;   ///< objectness times class probability, 0...1
  int32_t class_id;  ///< COCO class index, 0...79 (0 = person)
} lrj_detection;

/// Loads an ONNX YOLOX network from the `model_size` bytes at `model` (the caller reads and
/// verifies the file; the bytes are copied) for square inputs of `input_size` pixels (a multiple
/// of 32, 64...1024), and checks with one pass on a blank picture that its output has the shape
/// of YOLOX with 80 COCO classes. `threads` sets OpenCV's worker threads, a process-wide setting
/// (0 leaves it unchanged; 1 runs every layer on the calling thread).
/// Returns NULL on failure with a message in `error` (always NUL-terminated when `error_size > 0`).
lrj_detector *lrj_detector_open(const void *model, size_t model_size, int32_t input_size, int32_t threads,
                                char *error, size_t error_size);

/// Frees a detector (NULL is accepted).
void lrj_detector_close(lrj_detector *detector);

/// The square input size the detector was opened with.
int32_t lrj_detector_input_size(const lrj_detector *detector);

/// Runs the network on a packed RGB picture (`stride` bytes per row, at least `width * 3`; the
/// network's BGR order is made here). The picture is scaled to fit the input square, placed at
/// its top-left corner, and the rest filled with grey 114, as YOLOX was trained. Boxes of score
/// at least `score_threshold` are kept, overlapping boxes of one class are suppressed
/// (non-maximum suppression at `nms_iou`), and at most `capacity` of them, best first, are
/// written to `out`.
/// Returns the number written (0 or more), or -1 on failure with a message in `error`.
int32_t lrj_detector_run(lrj_detector *detector, const void *rgb, int32_t width, int32_t height,
                         int32_t stride, float score_threshold, float nms_iou,
                         lrj_detection *out, int32_t capacity, char *error, size_t error_size);

/// Runs the network on a prepared planar input of shape 1x3x`height`x`width` (BGR planes, values
/// 0...255, both sides multiples of 32) and copies at most `capacity` floats of its raw output
/// (anchors x 85: cx, cy, w, h on the grid, objectness, 80 class scores) to `out`.
/// Returns the number of floats of the output (nothing is copied when it exceeds `capacity`), or
/// -1 on failure with a message in `error`.
int64_t lrj_detector_forward(lrj_detector *detector, const float *input, int32_t width, int32_t height,
                             float *out, int64_t capacity, char *error, size_t error_size);

/// The OpenCV version the detector runs on, e.g. "4.6.0".
const char *lrj_detector_opencv_version(void);

#ifdef __cplusplus
}
#endif

#endif
