;; Pillow's 8-bit resampling passes (libImaging/Resample.c) in WebAssembly SIMD, exact: integer
;; weights in 22-bit fixed point, rounding offset 1 << 21, then >> 22 and clamping to 0..255 by
;; the saturating narrows (i32 -> i16 -> u8), as clip8 does. The caller leaves 16 bytes of slack
;; after every buffer: vector loads and stores may run that far past the last pixel.
;; Coefficients: bounds are i32 pairs (first input index, tap count) per output pixel; weights
;; are i32, ksize per output pixel.
(module
  (memory (export "memory") 1)

  ;; Output rows [o0, o0 + outH) of a vertical pass over rows of rowLen bytes; src starts at row y0.
  (func (export "vertical")
    (param $src i32) (param $rowLen i32) (param $y0 i32) (param $o0 i32) (param $outH i32)
    (param $bounds i32) (param $weights i32) (param $ksize i32) (param $dst i32)
    (local $oo i32) (local $o i32) (local $taps i32) (local $base i32) (local $k i32)
    (local $i i32) (local $t i32) (local $at i32) (local $out i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $w v128) (local $v v128) (local $lo v128) (local $hi v128)
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_s (local.get $oo) (local.get $outH)))
      (local.set $o (i32.add (local.get $o0) (local.get $oo)))
      (local.set $taps (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $o) (i32.const 3)))))
      (local.set $base (i32.add (local.get $src)
        (i32.mul (i32.sub (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $o) (i32.const 3)))) (local.get $y0)) (local.get $rowLen))))
      (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $o) (local.get $ksize)) (i32.const 2))))
      (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $oo) (local.get $rowLen))))
      (local.set $i (i32.const 0))
      (block $cols_done (loop $cols
        (br_if $cols_done (i32.ge_s (local.get $i) (local.get $rowLen)))
        (local.set $a0 (i32x4.splat (i32.const 2097152)))
        (local.set $a1 (local.get $a0))
        (local.set $a2 (local.get $a0))
        (local.set $a3 (local.get $a0))
        (local.set $at (i32.add (local.get $base) (local.get $i)))
        (local.set $t (i32.const 0))
        (block $taps_done (loop $tap
          (br_if $taps_done (i32.ge_s (local.get $t) (local.get $taps)))
          (local.set $w (i32x4.splat (i32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2))))))
          (local.set $v (v128.load (local.get $at)))
          (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
          (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $at (i32.add (local.get $at) (local.get $rowLen)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tap)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $cols)))
      (local.set $oo (i32.add (local.get $oo) (i32.const 1)))
      (br $rows))))

  ;; Output columns [o0, o0 + outW) of a horizontal pass over input rows [y0, y1) of an RGB image.
  (func (export "horizontal")
    (param $src i32) (param $width i32) (param $y0 i32) (param $y1 i32) (param $o0 i32) (param $outW i32)
    (param $bounds i32) (param $weights i32) (param $ksize i32) (param $dst i32)
    (local $y i32) (local $row i32) (local $oo i32) (local $o i32) (local $taps i32) (local $k i32)
    (local $t i32) (local $at i32) (local $out i32) (local $acc v128)
    (local.set $out (local.get $dst))
    (local.set $y (local.get $y0))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_s (local.get $y) (local.get $y1)))
      (local.set $row (i32.add (local.get $src) (i32.mul (local.get $y) (i32.mul (local.get $width) (i32.const 3)))))
      (local.set $oo (i32.const 0))
      (block $cols_done (loop $cols
        (br_if $cols_done (i32.ge_s (local.get $oo) (local.get $outW)))
        (local.set $o (i32.add (local.get $o0) (local.get $oo)))
        (local.set $at (i32.add (local.get $row)
          (i32.mul (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $o) (i32.const 3)))) (i32.const 3))))
        (local.set $taps (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $o) (i32.const 3)))))
        (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $o) (local.get $ksize)) (i32.const 2))))
        (local.set $acc (i32x4.splat (i32.const 2097152)))
        (local.set $t (i32.const 0))
        (block $taps_done (loop $tap
          (br_if $taps_done (i32.ge_s (local.get $t) (local.get $taps)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.mul
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $at))))
              (i32x4.splat (i32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2))))))))
          (local.set $at (i32.add (local.get $at) (i32.const 3)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tap)))
        (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
        ;; R, G, B and one byte that the next pixel overwrites.
        (i32.store (local.get $out)
          (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)) (local.get $acc))))
        (local.set $out (i32.add (local.get $out) (i32.const 3)))
        (local.set $oo (i32.add (local.get $oo) (i32.const 1)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows))))
)
