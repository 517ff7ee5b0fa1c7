/** Python's round(): halves go to the even neighbour (timm's channel counts and torchvision's crop offsets use it). */
export function pyRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
