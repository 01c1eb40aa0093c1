#pragma once
// The document's table of contents as a tree (the reader gives it flattened, with depths).

#include "document/outline_entry.h"

#include <QStandardItemModel>

#include <vector>

namespace hip::ui {

class OutlineModel final : public QStandardItemModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OutlineModel)

public:
    enum Roles {
        PageRole = Qt::UserRole + 1, // page index, -1 when the entry points nowhere
        TopRole,                     // normalized y on the page, -1 when unknown
    };

    explicit OutlineModel(QObject* parent = nullptr);
    void setOutline(const std::vector<doc::OutlineEntry>& outline);
};

} // namespace hip::ui
