// Test pages with known text, made by the tests themselves: Tesseract's `text2image` (Debian
// package tesseract-ocr) renders the text in DejaVu Sans (fonts-dejavu-core), clean; the
// helpers below then scale, turn, skew, shade and spoil it in known amounts. Also: the
// character error rate, and encoders for every input format, including a minimal PDF with
// the page as a JPEG image (PDF 1.4, ISO 32000-1 sections 7.5 and 8.9), so no tool outside
// the process is needed for those.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace scanline::testing {

// A grey page of `text` at `ptsize` points and `dpi`, cropped to the text with `margin`
// pixels of paper around it. Renders once per (text, ptsize, dpi) per process.
inline cv::Mat RenderText(const std::string& text, int ptsize = 12, int dpi = 300,
                          int margin = 40) {
  static std::map<std::string, cv::Mat> cache;
  const std::string key = text + "|" + std::to_string(ptsize) + "|" + std::to_string(dpi);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string dir = std::filesystem::temp_directory_path() /
                            ("scanline-text2image-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string base = dir + "/page" + std::to_string(cache.size());
    std::ofstream(base + ".txt") << text;
    const std::string cmd =
        "cd '" + dir + "' && text2image --text='" + base + ".txt' --outputbase='" + base +
        "' --font='DejaVu Sans' --fonts_dir=/usr/share/fonts/truetype/dejavu --ptsize=" +
        std::to_string(ptsize) + " --resolution=" + std::to_string(dpi) +
        " --degrade_image=false --rotate_image=false --xsize=" + std::to_string(dpi * 8) +
        " --ysize=" + std::to_string(dpi * 10) + " --margin=" + std::to_string(dpi / 3) +
        " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return cv::Mat();
    cv::Mat page = cv::imread(base + ".tif", cv::IMREAD_GRAYSCALE);
    std::filesystem::remove_all(dir);
    if (page.empty()) return page;
    cv::Mat ink;
    cv::threshold(page, ink, 128, 255, cv::THRESH_BINARY_INV);
    cv::Rect box = cv::boundingRect(ink);
    box.x -= margin;
    box.y -= margin;
    box.width += 2 * margin;
    box.height += 2 * margin;
    cv::Mat out(box.height, box.width, CV_8UC1, cv::Scalar(255));
    const cv::Rect inside = box & cv::Rect(0, 0, page.cols, page.rows);
    page(inside).copyTo(
        out(cv::Rect(inside.x - box.x, inside.y - box.y, inside.width, inside.height)));
    it = cache.emplace(key, out).first;
  }
  return it->second.clone();
}

inline cv::Mat Scaled(const cv::Mat& page, double factor) {
  cv::Mat out;
  cv::resize(page, out, cv::Size(), factor, factor, factor < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// Turned by `degrees` counter-clockwise as seen (text rising to the right for > 0), on a
// canvas large enough to keep every corner, paper-coloured outside.
inline cv::Mat Skewed(const cv::Mat& page, double degrees) {
  const cv::Point2f centre(page.cols / 2.0f, page.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(centre, degrees, 1.0);
  const double rad = degrees * CV_PI / 180;
  const double c = std::abs(std::cos(rad)), s = std::abs(std::sin(rad));
  const int w = static_cast<int>(page.cols * c + page.rows * s) + 1;
  const int h = static_cast<int>(page.cols * s + page.rows * c) + 1;
  m.at<double>(0, 2) += (w - page.cols) / 2.0;
  m.at<double>(1, 2) += (h - page.rows) / 2.0;
  cv::Mat out;
  cv::warpAffine(page, out, m, cv::Size(w, h), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(255));
  return out;
}

// Salt-and-pepper: `fraction` of pixels set black or white at random; plus Gaussian noise of
// `sigma` grey levels. Deterministic for a seed.
inline cv::Mat Noisy(const cv::Mat& page, double fraction, double sigma = 0, unsigned seed = 7) {
  cv::Mat out = page.clone();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, sigma > 0 ? sigma : 1);
  for (int y = 0; y < out.rows; ++y) {
    uchar* row = out.ptr<uchar>(y);
    for (int x = 0; x < out.cols; ++x) {
      double v = row[x];
      if (sigma > 0) v += g(rng);
      if (u(rng) < fraction) v = u(rng) < 0.5 ? 0 : 255;
      row[x] = cv::saturate_cast<uchar>(v);
    }
  }
  return out;
}

// Paper shaded from `light` on the left to `dark` on the right; ink kept black. Text keeps
// its contrast locally but no single threshold separates it everywhere.
inline cv::Mat Shaded(const cv::Mat& page, double light, double dark) {
  cv::Mat out(page.size(), CV_8UC1);
  for (int y = 0; y < page.rows; ++y) {
    for (int x = 0; x < page.cols; ++x) {
      const double paper = light + (dark - light) * x / std::max(1, page.cols - 1);
      const double ink = page.at<uchar>(y, x) / 255.0;  // 1 = paper
      out.at<uchar>(y, x) = cv::saturate_cast<uchar>(20 + (paper - 20) * ink);
    }
  }
  return out;
}

// Dot-matrix print of a page: ink only as round dots of `dot` pixels on a grid of `pitch`
// pixels, wherever the page is dark, so no two dots touch (`dot` < `pitch`).
inline cv::Mat Dotted(const cv::Mat& page, int pitch = 4, int dot = 2) {
  cv::Mat out(page.size(), CV_8UC1, cv::Scalar(255));
  for (int y = pitch / 2; y < page.rows; y += pitch) {
    for (int x = pitch / 2; x < page.cols; x += pitch) {
      if (page.at<uchar>(y, x) < 128) {
        cv::circle(out, cv::Point(x, y), dot / 2, cv::Scalar(0), cv::FILLED);
      }
    }
  }
  return out;
}

inline std::string Encode(const cv::Mat& page, const std::string& ext,
                          const std::vector<int>& params = {}) {
  std::vector<uchar> out;
  cv::imencode(ext, page, out, params);
  return std::string(out.begin(), out.end());
}

// A multi-page TIFF of the pages.
inline std::string MultipageTiff(const std::vector<cv::Mat>& pages) {
  const std::string path = std::filesystem::temp_directory_path() /
                           ("scanline-multi-" + std::to_string(getpid()) + ".tif");
  cv::imwritemulti(path, pages);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  std::filesystem::remove(path);
  return s.str();
}

// A PDF with one page per image, each page the image as a JPEG at `dpi`.
inline std::string PdfOfPages(const std::vector<cv::Mat>& pages, int dpi = 150) {
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  auto object = [&](const std::string& body) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  const int n = static_cast<int>(pages.size());
  // 1: catalog, 2: page tree, then per page: page, image, content.
  std::string kids;
  for (int i = 0; i < n; ++i) kids += std::to_string(3 + 3 * i) + " 0 R ";
  object("<< /Type /Catalog /Pages 2 0 R >>");
  object("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  for (int i = 0; i < n; ++i) {
    const cv::Mat& page = pages[static_cast<size_t>(i)];
    const std::string jpeg = Encode(page, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
    const double w = page.cols * 72.0 / dpi, h = page.rows * 72.0 / dpi;
    char size[64];
    std::snprintf(size, sizeof size, "%.2f %.2f", w, h);
    const int page_id = 3 + 3 * i;
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + std::string(size) +
           "] /Resources << /XObject << /Im0 " + std::to_string(page_id + 1) +
           " 0 R >> >> /Contents " + std::to_string(page_id + 2) + " 0 R >>");
    object("<< /Type /XObject /Subtype /Image /Width " + std::to_string(page.cols) + " /Height " +
           std::to_string(page.rows) + " /ColorSpace " +
           (page.channels() == 1 ? "/DeviceGray" : "/DeviceRGB") +
           " /BitsPerComponent 8 /Filter /DCTDecode /Length " + std::to_string(jpeg.size()) +
           " >>\nstream\n" + jpeg + "\nendstream");
    char draw[96];  // scale the unit square to the page, then paint the image
    std::snprintf(draw, sizeof draw, "q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", w, h);
    const std::string content = draw;
    object("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
           "\nendstream");
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// Words of `text`, case kept, joined by single spaces.
inline std::string Normalised(const std::string& text) {
  std::istringstream in(text);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

// Character error rate: Levenshtein distance over the expected text's length, whitespace
// collapsed on both sides.
inline double Cer(const std::string& expected, const std::string& got) {
  const std::string a = Normalised(expected), b = Normalised(got);
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return a.empty() ? (b.empty() ? 0 : 1) : static_cast<double>(prev[b.size()]) / a.size();
}

}  // namespace scanline::testing
