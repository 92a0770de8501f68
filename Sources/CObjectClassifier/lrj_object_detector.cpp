// OpenCV DNN over YOLOX-nano: letterbox, forward, grid decoding, per-class NMS.
// Only core, imgproc and dnn are used (and linked).

#include "lrj_object_detector.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

struct lrj_detector {
  cv::dnn::Net net;
  int input_size;
  int anchors;
  std::vector<int> grid_x, grid_y, grid_stride;  // one entry per anchor, in output order
};

namespace {

constexpr int kClasses = 80;
constexpr int kColumns = 5 + kClasses;  // cx, cy, w, h, objectness, class scores
constexpr int kStrides[] = {8, 16, 32};

void set_error(char *error, size_t size, const std::string &message) {
  if (error == nullptr || size == 0) return;
  const size_t n = std::min(size - 1, message.size());
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// Runs `body`; an exception becomes a message in `error` and false: none crosses the C interface.
template <typename Body>
bool guarded(char *error, size_t error_size, Body body) {
  try {
    body();
    return true;
  } catch (const cv::Exception &e) {
    set_error(error, error_size, std::string("OpenCV: ") + e.what());
  } catch (const std::exception &e) {
    set_error(error, error_size, e.what());
  } catch (...) {
    set_error(error, error_size, "unknown failure");
  }
  return false;
}

// Runs the network on a prepared blob and returns its output as anchors x columns.
cv::Mat forward(lrj_detector &d, const cv::Mat &blob) {
  d.net.setInput(blob);
  cv::Mat out = d.net.forward();
  // Expected 1 x anchors x 85.
  if (out.dims != 3 || out.size[0] != 1 || out.size[1] != d.anchors || out.size[2] != kColumns ||
      out.type() != CV_32F) {
    std::string shape;
    for (int i = 0; i < out.dims; ++i) shape += (i ? "x" : "") + std::to_string(out.size[i]);
    throw std::runtime_error("unexpected network output " + shape + " (expected 1x" + std::to_string(d.anchors) +
                             "x" + std::to_string(kColumns) + "): not a YOLOX COCO model");
  }
  return cv::Mat(d.anchors, kColumns, CV_32F, out.ptr<float>());
}

// The letterboxed network input: the picture scaled to fit, at the top-left, grey 114 around.
cv::Mat letterbox(const cv::Mat &picture, int size, double &ratio) {
  ratio = std::min(double(size) / picture.cols, double(size) / picture.rows);
  const int w = std::max(1, int(picture.cols * ratio));
  const int h = std::max(1, int(picture.rows * ratio));
  cv::Mat padded(size, size, CV_8UC3, cv::Scalar(114, 114, 114));
  cv::Mat resized;
  cv::resize(picture, resized, cv::Size(w, h), 0, 0, ratio < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  resized.copyTo(padded(cv::Rect(0, 0, w, h)));
  return padded;
}

}  // namespace

extern "C" lrj_detector *lrj_detector_open(const void *model, size_t model_size, int32_t input_size,
                                           int32_t threads, char *error, size_t error_size) {
  if (model == nullptr || model_size == 0) {
    set_error(error, error_size, "the model is empty");
    return nullptr;
  }
  if (input_size < 64 || input_size > 1024 || input_size % 32 != 0) {
    set_error(error, error_size, "input size " + std::to_string(input_size) + " is not a multiple of 32 in 64...1024");
    return nullptr;
  }
  lrj_detector *d = nullptr;
  const bool opened = guarded(error, error_size, [&] {
    if (threads > 0) cv::setNumThreads(threads);
    d = new lrj_detector();
    d->input_size = input_size;
    for (int stride : kStrides) {
      const int cells = input_size / stride;
      for (int y = 0; y < cells; ++y) {
        for (int x = 0; x < cells; ++x) {
          d->grid_x.push_back(x);
          d->grid_y.push_back(y);
          d->grid_stride.push_back(stride);
        }
      }
    }
    d->anchors = int(d->grid_x.size());
    d->net = cv::dnn::readNetFromONNX(static_cast<const char *>(model), model_size);
    if (d->net.empty()) throw std::runtime_error("the network is empty");
    d->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    d->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    // One forward pass on a grey picture checks the output shape now rather than at first use.
    cv::Mat grey(input_size, input_size, CV_8UC3, cv::Scalar(114, 114, 114));
    forward(*d, cv::dnn::blobFromImage(grey, 1.0, cv::Size(), cv::Scalar(), false, false, CV_32F));
  });
  if (opened) return d;
  delete d;
  return nullptr;
}

extern "C" void lrj_detector_close(lrj_detector *detector) { delete detector; }

extern "C" int32_t lrj_detector_input_size(const lrj_detector *detector) {
  return detector ? detector->input_size : 0;
}

extern "C" int32_t lrj_detector_run(lrj_detector *detector, const void *rgb, int32_t width, int32_t height,
                                    int32_t stride, float score_threshold, float nms_iou, lrj_detection *out,
                                    int32_t capacity, char *error, size_t error_size) {
  if (detector == nullptr || rgb == nullptr || width <= 0 || height <= 0 || stride < width * 3 ||
      (capacity > 0 && out == nullptr)) {
    set_error(error, error_size, "invalid arguments");
    return -1;
  }
  int32_t n = 0;
  const bool ran = guarded(error, error_size, [&] {
    lrj_detector &d = *detector;
    // The caller's bytes are only read: cv::Mat wraps them without copying, and letterbox copies.
    const cv::Mat picture(height, width, CV_8UC3, const_cast<void *>(rgb), size_t(stride));
    double ratio = 1;
    const cv::Mat input = letterbox(picture, d.input_size, ratio);
    // swapRB: RGB in, BGR to the network (grey 114 is the same either way).
    const cv::Mat blob = cv::dnn::blobFromImage(input, 1.0, cv::Size(), cv::Scalar(), true, false, CV_32F);
    const cv::Mat rows = forward(d, blob);

    std::vector<cv::Rect2d> boxes;
    std::vector<float> scores;
    std::vector<int> classes;
    for (int i = 0; i < d.anchors; ++i) {
      const float *r = rows.ptr<float>(i);
      const float objectness = r[4];
      if (objectness < score_threshold) continue;
      const float *best = std::max_element(r + 5, r + kColumns);
      const float score = objectness * *best;
      if (score < score_threshold) continue;
      const double s = d.grid_stride[i];
      const double cx = (r[0] + d.grid_x[i]) * s;
      const double cy = (r[1] + d.grid_y[i]) * s;
      const double w = std::exp(double(r[2])) * s;
      const double h = std::exp(double(r[3])) * s;
      boxes.emplace_back((cx - w / 2) / ratio, (cy - h / 2) / ratio, w / ratio, h / ratio);
      scores.push_back(score);
      classes.push_back(int(best - (r + 5)));
    }
    // Suppression within each class only: boxes of different classes are moved apart so that
    // they never overlap (OpenCV 4.6 has no batched NMS).
    std::vector<cv::Rect2d> separated(boxes);
    const double offset = 4.0 * std::max(d.input_size / ratio, 1.0);
    for (size_t i = 0; i < separated.size(); ++i) separated[i].x += offset * classes[i];
    std::vector<int> kept;
    cv::dnn::NMSBoxes(separated, scores, score_threshold, nms_iou, kept);
    std::sort(kept.begin(), kept.end(), [&](int a, int b) { return scores[a] > scores[b]; });
    for (int k : kept) {
      if (n >= capacity) break;
      const cv::Rect2d &b = boxes[k];
      out[n++] = lrj_detection{float(b.x), float(b.y), float(b.width), float(b.height), scores[k], classes[k]};
    }
  });
  return ran ? n : -1;
}

extern "C" int64_t lrj_detector_forward(lrj_detector *detector, const float *input, int32_t width, int32_t height,
                                        float *out, int64_t capacity, char *error, size_t error_size) {
  if (detector == nullptr || input == nullptr || width <= 0 || height <= 0 || width % 32 || height % 32 ||
      (capacity > 0 && out == nullptr)) {
    set_error(error, error_size, "invalid arguments");
    return -1;
  }
  int64_t count = -1;
  const bool ran = guarded(error, error_size, [&] {
    const int shape[] = {1, 3, height, width};
    // The caller's floats are only read: the blob wraps them without copying.
    const cv::Mat blob(4, shape, CV_32F, const_cast<float *>(input));
    detector->net.setInput(blob);
    cv::Mat output = detector->net.forward();
    if (output.type() != CV_32F || !output.isContinuous()) throw std::runtime_error("unexpected network output type");
    count = int64_t(output.total());
    if (count <= capacity) std::memcpy(out, output.ptr<float>(), size_t(count) * sizeof(float));
  });
  return ran ? count : -1;
}

extern "C" const char *lrj_detector_opencv_version(void) { return CV_VERSION; }
