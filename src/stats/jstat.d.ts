/** The few jStat functions src/stats uses (the CommonJS package ships no type declarations). */
declare module 'jstat' {
  const jstat: {
    jStat: {
      /** Regularized incomplete beta function I_x(a, b). */
      ibeta(x: number, a: number, b: number): number;
      /** Inverse of I_x(a, b) in x. */
      ibetainv(p: number, a: number, b: number): number;
      normal: { inv(p: number, mean: number, sd: number): number };
    };
  };
  export default jstat;
}
