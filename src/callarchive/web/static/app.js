// callarchive: the player's position on the waveform, and seeking by clicking it.
"use strict";
document.querySelectorAll(".player").forEach((player) => {
  const audio = player.querySelector("audio");
  const wave = player.querySelector(".waveform");
  if (!audio || !wave) return;
  const head = wave.querySelector(".playhead");
  const length = () => audio.duration || Number(wave.dataset.durationMs) / 1000 || 0;
  audio.addEventListener("timeupdate", () => {
    const total = length();
    head.style.left = total ? `${(100 * audio.currentTime) / total}%` : "0";
  });
  wave.addEventListener("click", (event) => {
    const box = wave.getBoundingClientRect();
    const total = length();
    if (total) audio.currentTime = ((event.clientX - box.left) / box.width) * total;
  });
});
