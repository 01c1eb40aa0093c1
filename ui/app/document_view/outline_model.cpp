#include "document_view/outline_model.h"

#include <algorithm>

namespace hip::ui {

OutlineModel::OutlineModel(QObject* parent) : QStandardItemModel(parent) {}

void OutlineModel::setOutline(const std::vector<doc::OutlineEntry>& outline) {
    clear();
    // parents[d]: the last item at depth d; an entry deeper than its predecessor + 1 (a gap in a
    // damaged outline) hangs under the deepest parent there is.
    std::vector<QStandardItem*> parents{invisibleRootItem()};
    for (const doc::OutlineEntry& entry : outline) {
        auto* item = new QStandardItem(entry.title);
        item->setEditable(false);
        item->setData(entry.page, PageRole);
        item->setData(entry.top, TopRole);
        item->setToolTip(entry.page >= 0 ? tr("%1 (page %2)").arg(entry.title).arg(entry.page + 1)
                                         : entry.title);
        const size_t depth = std::min<size_t>(size_t(std::max(0, entry.level)), parents.size() - 1);
        parents[depth]->appendRow(item);
        parents.resize(depth + 1);
        parents.push_back(item);
    }
}

} // namespace hip::ui
