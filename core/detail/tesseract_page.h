// The two ends of a recognition in core/ocr.cc: handing Tesseract the page, and reading its
// text and words back. For core/ocr.cc and bench/micro/page_reading_benchmark, which times
// each against the way most programs do it.
#pragma once

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include <memory>
#include <opencv2/core.hpp>

#include "core/ocr.h"
#include "core/preprocess.h"

namespace scanline::detail {

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// `mat` (CV_8UC1, or CV_8UC3 in BGR) as the Leptonica image Tesseract works on, for
// TessBaseAPI::SetImage(Pix*). Throws Error (kInternal) if out of memory.
PixPtr PixForTesseract(const cv::Mat& mat);

// Maps a box of the image Tesseract read to the input page: the bounding box of its four
// corners through `m`, moved by (dx, dy), clipped to the page.
struct BoxMapper {
  PageTransform m = kIdentityTransform;
  int dx = 0, dy = 0, page_w = 0, page_h = 0;
  PixelBox operator()(int left, int top, int right, int bottom) const;
};

// The text (as TessBaseAPI::GetUTF8Text writes it) and the blocks, lines and words of the
// page `api` has recognised, into `page`, in reading order.
//
// ReadPageInPageOrder walks the page once, in the order its words stand; it returns false,
// with `page`'s text and blocks cleared, at the first word that reads right to left or
// mixes directions, where that is not the reading order. ReadPageInReadingOrder is
// Tesseract's way for any page: GetUTF8Text, and a walk with its ResultIterator.
bool ReadPageInPageOrder(tesseract::TessBaseAPI& api, const BoxMapper& map, OcrPage& page);
void ReadPageInReadingOrder(tesseract::TessBaseAPI& api, const BoxMapper& map, OcrPage& page);

}  // namespace scanline::detail
