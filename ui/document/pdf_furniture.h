#pragma once
// Finds the running headers, running footers and page numbers of a PDF: lines near the top or
// bottom edge that repeat at the same height on many pages (with a number that may count the
// pages), and lines that read as a page number.

#include "document/document_page.h"
#include "document/pdf_layout.h"

#include <QStringList>

#include <optional>
#include <vector>

namespace hip::doc {

// For every page, for every line: its kind of furniture, or nullopt for body text.
using FurnitureMarks = std::vector<std::vector<std::optional<PageFurniture::Kind>>>;

FurnitureMarks detectFurniture(const std::vector<PageLayout>& pages, const QStringList& labels);

} // namespace hip::doc
