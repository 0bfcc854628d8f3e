export default defineBackground(() => {
  // wired up in entrypoints/background/*.ts
});
