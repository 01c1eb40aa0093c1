#pragma once
// The eight 6-bit scales and mins of a Q4_K/Q5_K super-block, shared by dequantization and the
// dot products.

#include <cstdint>

namespace hip::quant {

// Unpacked from scales[12]: bytes 0..3 hold scales 0..3, bytes 4..7 mins 0..3 (low 6 bits each);
// scales and mins 4..7 keep their low nibbles in bytes 8..11 and their top two bits in the spare
// top bits of bytes 0..7. Multiplied by the super-block's d and dmin.
struct KScales {
    float scale[8];
    float min[8];
};

inline KScales unpackKScales(const uint8_t* s, float d, float dmin) {
    KScales out;
    for (int j = 0; j < 4; ++j) {
        out.scale[j] = d * static_cast<float>(s[j] & 63);
        out.min[j] = dmin * static_cast<float>(s[j + 4] & 63);
        out.scale[j + 4] = d * static_cast<float>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
        out.min[j + 4] = dmin * static_cast<float>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
    return out;
}

} // namespace hip::quant
