#include "common/resources.h"

#include <QtGlobal>

// Q_INIT_RESOURCE must be used outside any namespace.
static void initHipReaderResources() {
    Q_INIT_RESOURCE(hipreader);
}

namespace hip::ui {

void initResources() {
    initHipReaderResources();
}

} // namespace hip::ui
